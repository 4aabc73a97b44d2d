//! The native baseline server: single-threaded, level-triggered epoll,
//! non-blocking accept4/recv/send on raw syscalls.
//!
//! ```text
//! bench-server [--mode echo|sink|close] [--port 0] [--backlog 4096]
//! ```
//!
//! Prints `PORT <n>` on stdout once listening on 127.0.0.1, then serves until
//! killed or until its stdin reaches end of file (when stdin is a pipe or socket).
//!
//! Modes (the contract every benchmark server follows, see benchmark/README.md):
//! - `echo`: send back every byte received (ping-pong, fan-out).
//! - `sink`: read and discard; close the connection at end of stream (stream).
//! - `close`: close every accepted connection at once (accept rate).
//!
//! Per readiness event a connection gets ONE recv of up to 64 KiB and, in echo
//! mode, one send of what it read: 3 syscalls per round trip counting the
//! epoll_wait, the floor every other server is compared with.

#[path = "../sys.rs"]
mod sys;

use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::process::ExitCode;

const READ_BUF: usize = 64 * 1024;
const LISTENER: u64 = u64::MAX;
const STDIN: u64 = u64::MAX - 1;
const IN: u32 = libc::EPOLLIN as u32;
const OUT: u32 = libc::EPOLLOUT as u32;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Echo,
    Sink,
    Close,
}

/// One accepted connection; `pending` holds echo bytes the socket would not
/// take yet (then the connection waits for EPOLLOUT and stops reading).
struct Conn {
    fd: OwnedFd,
    pending: Vec<u8>,
    sent: usize,
}

fn usage(msg: &str) -> ExitCode {
    eprintln!("bench-server: {msg}\nusage: bench-server [--mode echo|sink|close] [--port N] [--backlog N]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut mode = Mode::Echo;
    let mut port: u16 = 0;
    let mut backlog: i32 = 4096;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let Some(value) = args.next() else {
            return usage(&format!("{flag} needs a value"));
        };
        match flag.as_str() {
            "--mode" => {
                mode = match value.as_str() {
                    "echo" => Mode::Echo,
                    "sink" => Mode::Sink,
                    "close" => Mode::Close,
                    _ => return usage(&format!("unknown mode {value}")),
                }
            }
            "--port" => match value.parse() {
                Ok(p) => port = p,
                Err(_) => return usage(&format!("bad port {value}")),
            },
            "--backlog" => match value.parse() {
                Ok(b) if b > 0 => backlog = b,
                _ => return usage(&format!("bad backlog {value}")),
            },
            _ => return usage(&format!("unknown option {flag}")),
        }
    }
    match serve(mode, port, backlog) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(mode: Mode, port: u16, backlog: i32) -> std::io::Result<()> {
    sys::raise_nofile_limit();
    let (listener, port) = sys::listen_loopback(port, backlog)?;
    let ep = sys::Epoll::new()?;
    ep.add(listener.as_raw_fd(), IN, LISTENER)?;
    // A pipe (or socket) on stdin is the parent's leash: end of file stops the
    // server. Anything else (a terminal, /dev/null) leaves only a signal to do it.
    if sys::stdin_is_pipe() {
        ep.add(0, IN, STDIN)?;
    }
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "PORT {port}")?;
        out.flush()?;
    }

    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut buf = vec![0u8; READ_BUF];
    let mut events = sys::event_buffer(1024);
    loop {
        let n = ep.wait(&mut events, -1)?;
        for ev in &events[..n] {
            let (token, flags) = (ev.u64, ev.events);
            match token {
                LISTENER => accept_all(&ep, listener.as_raw_fd(), mode, &mut conns)?,
                STDIN => {
                    let n = sys::read(0, &mut buf);
                    let retry = n == -(libc::EINTR as isize) || n == -(libc::EAGAIN as isize);
                    if n == 0 || (n < 0 && !retry) {
                        return Ok(());
                    }
                }
                _ => on_ready(&ep, token as usize, flags, mode, &mut conns, &mut buf)?,
            }
        }
    }
}

/// Accepts until EAGAIN (as libuv does), so one wake-up drains the queue.
fn accept_all(
    ep: &sys::Epoll,
    listener: RawFd,
    mode: Mode,
    conns: &mut Vec<Option<Conn>>,
) -> std::io::Result<()> {
    loop {
        let fd = match sys::accept(listener) {
            Ok(fd) => fd,
            Err(libc::EAGAIN) => return Ok(()),
            Err(libc::EINTR | libc::ECONNABORTED) => continue,
            // Out of fds: leave the rest in the queue until some close.
            Err(libc::EMFILE | libc::ENFILE) => return Ok(()),
            Err(e) => return Err(std::io::Error::from_raw_os_error(e)),
        };
        if mode == Mode::Close {
            drop(fd);
            continue;
        }
        let raw = fd.as_raw_fd();
        // Same work as node:net's `noDelay: true`.
        let _ = sys::set_nodelay(raw);
        ep.add(raw, IN, raw as u64)?;
        let slot = raw as usize;
        if conns.len() <= slot {
            conns.resize_with(slot + 1, || None);
        }
        conns[slot] = Some(Conn {
            fd,
            pending: Vec::new(),
            sent: 0,
        });
    }
}

fn on_ready(
    ep: &sys::Epoll,
    slot: usize,
    flags: u32,
    mode: Mode,
    conns: &mut [Option<Conn>],
    buf: &mut [u8],
) -> std::io::Result<()> {
    let Some(conn) = conns.get_mut(slot).and_then(Option::as_mut) else {
        return Ok(());
    };
    let fd = conn.fd.as_raw_fd();
    let keep = if !conn.pending.is_empty() {
        // Waiting for room to finish an echo.
        if flags & (OUT | libc::EPOLLERR as u32 | libc::EPOLLHUP as u32) == 0 {
            return Ok(());
        }
        flush(ep, conn)?
    } else {
        let n = sys::recv(fd, buf);
        if n > 0 {
            if mode == Mode::Echo {
                let data = &buf[..n as usize];
                let sent = sys::send(fd, data);
                if sent == n {
                    true
                } else if sent >= 0 || sent == -(libc::EAGAIN as isize) {
                    conn.pending.clear();
                    conn.pending
                        .extend_from_slice(&data[sent.max(0) as usize..]);
                    conn.sent = 0;
                    ep.modify(fd, OUT, slot as u64)?;
                    true
                } else {
                    false
                }
            } else {
                true
            }
        } else {
            // 0 = end of stream: close (in sink mode the client waits for it).
            n == -(libc::EAGAIN as isize) || n == -(libc::EINTR as isize)
        }
    };
    if !keep {
        // Dropping the fd closes it, which also removes it from epoll.
        conns[slot] = None;
    }
    Ok(())
}

/// Sends pending echo bytes; back to reading once they are all out.
fn flush(ep: &sys::Epoll, conn: &mut Conn) -> std::io::Result<bool> {
    let fd = conn.fd.as_raw_fd();
    let sent = sys::send(fd, &conn.pending[conn.sent..]);
    if sent < 0 {
        return Ok(sent == -(libc::EAGAIN as isize) || sent == -(libc::EINTR as isize));
    }
    conn.sent += sent as usize;
    if conn.sent == conn.pending.len() {
        conn.pending.clear();
        conn.sent = 0;
        ep.modify(fd, IN, fd as u64)?;
    }
    Ok(true)
}
