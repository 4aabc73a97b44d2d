//! The one load client every benchmark server is driven by (ours, node:net,
//! the native baseline), so the client's cost is the same for all of them.
//!
//! ```text
//! bench-client pingpong --port P [--conns 1] [--size 64]      round trips/s
//! bench-client accept   --port P                              connections/s
//! bench-client stream   --port P [--conns 1] [--chunk 65536]  bytes/s
//! bench-client eagain                                         recv() calls/s on an empty socket
//! bench-client udp      --port P [--size 64] [--window 128]   UDP datagrams echoed/s
//!   common: [--duration 3] [--warmup 0.5] [--server-pid PID]
//! ```
//!
//! Loopback (127.0.0.1) only. Non-blocking sockets; `pingpong` and `stream`
//! drive all their connections from one level-triggered epoll. Each run warms
//! up for `--warmup` seconds, then measures for `--duration` seconds (at most
//! 30) and prints ONE JSON line: the figure, the client's own CPU time over
//! the measured window (getrusage user + sys: a client near 100 % of a core is
//! the limit, not the server), and, given `--server-pid`, the server's CPU
//! time over the same window from /proc.

#[path = "../sys.rs"]
mod sys;

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const MAX_DURATION: f64 = 30.0;
const MAX_WARMUP: f64 = 10.0;
const MAX_CONNS: usize = 5000;
const MAX_SIZE: usize = 1 << 20;
const MAX_CHUNK: usize = 16 << 20;
const MAX_WINDOW: usize = 1024;
/// Datagram size limit of the udp workload (one loopback datagram, no IP fragments).
const MAX_DATAGRAM: usize = 1472;
const IN: u32 = libc::EPOLLIN as u32;
const OUT: u32 = libc::EPOLLOUT as u32;
const EAGAIN: isize = -(libc::EAGAIN as isize);
const EINTR: isize = -(libc::EINTR as isize);

const USAGE: &str =
    "usage: bench-client pingpong|accept|stream|eagain|udp --port P [--conns N] [--size B] \
[--chunk B] [--window N] [--duration S] [--warmup S] [--server-pid PID]";

struct Opts {
    port: u16,
    conns: usize,
    size: usize,
    chunk: usize,
    window: usize,
    duration: Duration,
    warmup: Duration,
    server_pid: Option<u32>,
}

fn parse(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts {
        port: 0,
        conns: 1,
        size: 64,
        chunk: 64 * 1024,
        window: 128,
        duration: Duration::from_secs(3),
        warmup: Duration::from_millis(500),
        server_pid: None,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = || format!("bad value for {flag}: {value}");
        match flag.as_str() {
            "--port" => o.port = value.parse().map_err(|_| bad())?,
            "--conns" => o.conns = value.parse().map_err(|_| bad())?,
            "--size" => o.size = value.parse().map_err(|_| bad())?,
            "--chunk" => o.chunk = value.parse().map_err(|_| bad())?,
            "--window" => o.window = value.parse().map_err(|_| bad())?,
            "--duration" => {
                let s: f64 = value.parse().map_err(|_| bad())?;
                o.duration = sys::secs(s).filter(|d| !d.is_zero()).ok_or_else(bad)?;
            }
            "--warmup" => {
                let s: f64 = value.parse().map_err(|_| bad())?;
                o.warmup = sys::secs(s).ok_or_else(bad)?;
            }
            "--server-pid" => o.server_pid = Some(value.parse().map_err(|_| bad())?),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    // Hard caps: this tool must never turn into a load generator that runs away.
    o.duration = o.duration.min(Duration::from_secs_f64(MAX_DURATION));
    o.warmup = o.warmup.min(Duration::from_secs_f64(MAX_WARMUP));
    if o.conns == 0 || o.conns > MAX_CONNS {
        return Err(format!("--conns must be 1..={MAX_CONNS}"));
    }
    if o.size == 0 || o.size > MAX_SIZE {
        return Err(format!("--size must be 1..={MAX_SIZE}"));
    }
    if o.window == 0 || o.window > MAX_WINDOW {
        return Err(format!("--window must be 1..={MAX_WINDOW}"));
    }
    if o.chunk == 0 || o.chunk > MAX_CHUNK {
        return Err(format!("--chunk must be 1..={MAX_CHUNK}"));
    }
    Ok(o)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let opts = match parse(rest) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("bench-client: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if cmd != "eagain" && opts.port == 0 {
        eprintln!("bench-client: --port is required\n{USAGE}");
        return ExitCode::from(2);
    }
    sys::raise_nofile_limit();
    let result = match cmd.as_str() {
        "pingpong" => pingpong(&opts),
        "accept" => accept(&opts),
        "stream" => stream(&opts),
        "eagain" => eagain(&opts),
        "udp" => udp(&opts),
        _ => {
            eprintln!("bench-client: unknown workload {cmd}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(report) => {
            println!("{}", report.json());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench-client {cmd}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The measured window: wall clock, own CPU and the server's CPU at its start.
struct Window {
    t0: Instant,
    cpu0: f64,
    server0: Option<f64>,
    server_pid: Option<u32>,
}

impl Window {
    fn start(server_pid: Option<u32>) -> Self {
        Self {
            server0: server_pid.and_then(sys::process_cpu_seconds),
            cpu0: sys::own_cpu_seconds(),
            t0: Instant::now(),
            server_pid,
        }
    }

    fn finish(&self, workload: &'static str, unit: &'static str, ops: u64, o: &Opts) -> Report {
        let seconds = self.t0.elapsed().as_secs_f64();
        let client_cpu = sys::own_cpu_seconds() - self.cpu0;
        let server_cpu = match (
            self.server0,
            self.server_pid.and_then(sys::process_cpu_seconds),
        ) {
            (Some(a), Some(b)) => Some(b - a),
            _ => None,
        };
        Report {
            workload,
            unit,
            conns: o.conns,
            size: if workload == "stream" {
                o.chunk
            } else {
                o.size
            },
            seconds,
            ops,
            client_cpu,
            server_cpu,
            errors: 0,
            extra: String::new(),
        }
    }
}

struct Report {
    workload: &'static str,
    unit: &'static str,
    conns: usize,
    size: usize,
    seconds: f64,
    ops: u64,
    client_cpu: f64,
    server_cpu: Option<f64>,
    errors: u64,
    extra: String,
}

impl Report {
    fn json(&self) -> String {
        let rate = self.ops as f64 / self.seconds;
        let opt = |v: Option<f64>| v.map_or_else(|| "null".to_owned(), |x| format!("{x:.4}"));
        format!(
            concat!(
                "{{\"workload\":\"{}\",\"conns\":{},\"size\":{},\"seconds\":{:.4},\"ops\":{},",
                "\"rate\":{:.1},\"unit\":\"{}\",\"client_cpu_s\":{:.4},\"client_cpu\":{:.4},",
                "\"server_cpu_s\":{},\"server_cpu\":{},\"errors\":{}{}}}"
            ),
            self.workload,
            self.conns,
            self.size,
            self.seconds,
            self.ops,
            rate,
            self.unit,
            self.client_cpu,
            self.client_cpu / self.seconds,
            opt(self.server_cpu),
            opt(self.server_cpu.map(|c| c / self.seconds)),
            self.errors,
            self.extra,
        )
    }
}

fn timed_out() -> io::Error {
    io::Error::from_raw_os_error(libc::ETIMEDOUT)
}

/// Sends all of `data` on a non-blocking socket, polling for room.
fn send_all(fd: RawFd, mut data: &[u8], deadline: Instant) -> io::Result<()> {
    while !data.is_empty() {
        let n = sys::send(fd, data);
        if n > 0 {
            data = &data[n as usize..];
        } else if n == EAGAIN {
            if !sys::wait_fd(fd, libc::POLLOUT, deadline)? {
                return Err(timed_out());
            }
        } else if n != EINTR {
            return Err(io::Error::from_raw_os_error(-n as i32));
        }
    }
    Ok(())
}

/// Receives exactly `buf.len()` bytes on a non-blocking socket, polling.
fn recv_exact(fd: RawFd, buf: &mut [u8], deadline: Instant) -> io::Result<()> {
    let mut got = 0;
    while got < buf.len() {
        let n = sys::recv(fd, &mut buf[got..]);
        if n > 0 {
            got += n as usize;
        } else if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "server closed the connection",
            ));
        } else if n == EAGAIN {
            if !sys::wait_fd(fd, libc::POLLIN, deadline)? {
                return Err(timed_out());
            }
        } else if n != EINTR {
            return Err(io::Error::from_raw_os_error(-n as i32));
        }
    }
    Ok(())
}

/// Opens `conns` connections one after another. With `probe`, each does one
/// echo round trip first, so the server has accepted it before the next one
/// (a thousand SYNs at once would overflow a small accept queue and stall
/// for a SYN retransmit).
fn open_conns(o: &Opts, probe: Option<&[u8]>) -> io::Result<Vec<OwnedFd>> {
    let deadline =
        Instant::now() + Duration::from_secs(10) + Duration::from_millis(10 * o.conns as u64);
    let mut fds = Vec::with_capacity(o.conns);
    let mut buf = vec![0u8; probe.map_or(0, <[u8]>::len)];
    for _ in 0..o.conns {
        let fd = sys::connect_loopback(o.port, deadline)?;
        if let Some(msg) = probe {
            send_all(fd.as_raw_fd(), msg, deadline)?;
            recv_exact(fd.as_raw_fd(), &mut buf, deadline)?;
        }
        fds.push(fd);
    }
    Ok(fds)
}

/// Warm-up then measured phase, for the epoll-driven workloads.
struct Phases {
    end: Instant,
    measuring: bool,
    duration: Duration,
}

impl Phases {
    fn new(o: &Opts) -> Self {
        Self {
            end: Instant::now() + o.warmup,
            measuring: false,
            duration: o.duration,
        }
    }

    /// Called once per loop turn: `Some(true)` when the measured window just
    /// began, `None` when it is over.
    fn tick(&mut self) -> Option<bool> {
        let now = Instant::now();
        if now < self.end {
            return Some(false);
        }
        if self.measuring {
            return None;
        }
        self.measuring = true;
        self.end = now + self.duration;
        Some(true)
    }
}

struct Peer {
    fd: OwnedFd,
    /// Bytes of the current message sent; `< size` means waiting for EPOLLOUT.
    sent: usize,
    /// Bytes of its echo received.
    got: usize,
    alive: bool,
}

fn pingpong(o: &Opts) -> io::Result<Report> {
    let msg: Vec<u8> = (0..o.size).map(|i| (i % 251) as u8).collect();
    let mut buf = vec![0u8; o.size];
    let ep = sys::Epoll::new()?;
    let mut peers: Vec<Peer> = open_conns(o, Some(&msg))?
        .into_iter()
        .map(|fd| Peer {
            fd,
            sent: 0,
            got: 0,
            alive: true,
        })
        .collect();
    let mut alive = peers.len();
    let mut errors = 0u64;
    for (i, p) in peers.iter_mut().enumerate() {
        let fd = p.fd.as_raw_fd();
        ep.add(fd, IN, i as u64)?;
        start_message(&ep, p, i, &msg)?;
    }
    let mut events = sys::event_buffer(1024);
    let mut phases = Phases::new(o);
    let mut window = None;
    let mut count = 0u64;
    while let Some(began) = phases.tick() {
        if began {
            count = 0;
            window = Some(Window::start(o.server_pid));
        }
        let n = ep.wait(&mut events, sys::millis_until(phases.end))?;
        for ev in &events[..n] {
            let i = ev.u64 as usize;
            let p = &mut peers[i];
            if !p.alive {
                continue;
            }
            let fd = p.fd.as_raw_fd();
            let ok = if p.sent < o.size {
                // Finishing a send the socket would not take at once (rare).
                let r = sys::send(fd, &msg[p.sent..]);
                if r > 0 {
                    p.sent += r as usize;
                    if p.sent == o.size {
                        ep.modify(fd, IN, i as u64)?;
                    }
                }
                r > 0 || r == EAGAIN || r == EINTR
            } else {
                let r = sys::recv(fd, &mut buf[..o.size - p.got]);
                if r > 0 {
                    p.got += r as usize;
                    if p.got == o.size {
                        count += 1;
                        start_message(&ep, p, i, &msg)?
                    } else {
                        true
                    }
                } else {
                    r == EAGAIN || r == EINTR
                }
            };
            if !ok {
                p.alive = false;
                alive -= 1;
                errors += 1;
            }
        }
        if alive == 0 {
            break;
        }
    }
    let window = window.unwrap_or_else(|| Window::start(o.server_pid));
    let mut report = window.finish("pingpong", "round_trips/s", count, o);
    report.errors = errors;
    Ok(report)
}

/// Sends the next message; on a short send waits for EPOLLOUT. `Ok(false)` if
/// the connection failed.
fn start_message(ep: &sys::Epoll, p: &mut Peer, i: usize, msg: &[u8]) -> io::Result<bool> {
    let fd = p.fd.as_raw_fd();
    p.got = 0;
    let r = sys::send(fd, msg);
    if r == msg.len() as isize {
        p.sent = msg.len();
        return Ok(true);
    }
    if r >= 0 || r == EAGAIN || r == EINTR {
        p.sent = r.max(0) as usize;
        ep.modify(fd, OUT, i as u64)?;
        return Ok(true);
    }
    Ok(false)
}

/// Sequential connect, wait for the server to close, close: one connection
/// in flight at a time, so the figure is the server's accept-and-close
/// latency. SO_LINGER 0 makes our close an RST, so neither side piles up
/// TIME_WAIT sockets. Syscalls per connection on our side: socket,
/// setsockopt, connect, poll, recv, close.
fn accept(o: &Opts) -> io::Result<Report> {
    let mut phases = Phases::new(o);
    let mut window = None;
    let mut count = 0u64;
    let mut errors = 0u64;
    while let Some(began) = phases.tick() {
        if began {
            count = 0;
            errors = 0;
            window = Some(Window::start(o.server_pid));
        }
        let fd = sys::tcp_socket()?;
        let raw = fd.as_raw_fd();
        sys::set_linger_zero(raw)?;
        if let Err(e) = sys::connect_start(raw, o.port) {
            if e.raw_os_error() == Some(libc::ECONNREFUSED) {
                return Err(e);
            }
            errors += 1;
            continue;
        }
        // The server's close arrives as end of stream (POLLIN, recv 0).
        let deadline =
            (Instant::now() + Duration::from_secs(1)).min(phases.end + Duration::from_secs(1));
        let closed = sys::wait_fd(raw, libc::POLLIN, deadline)? && {
            let mut byte = [0u8; 1];
            let r = sys::recv(raw, &mut byte);
            r == 0 || r == -(libc::ECONNRESET as isize)
        };
        if closed {
            count += 1;
        } else {
            errors += 1;
            if errors > 100 && count == 0 {
                return Err(io::Error::other(
                    "the server does not close accepted connections (mode close?)",
                ));
            }
        }
        drop(fd);
    }
    let window = window.unwrap_or_else(|| Window::start(o.server_pid));
    let mut report = window.finish("accept", "conns/s", count, o);
    report.errors = errors;
    Ok(report)
}

/// Bulk send to a sink server. The window closes once, after the measured
/// time, every connection has been shut down for writing and the server has
/// closed it: so bytes still in socket buffers are counted only once drained.
fn stream(o: &Opts) -> io::Result<Report> {
    let chunk: Vec<u8> = (0..o.chunk).map(|i| (i % 251) as u8).collect();
    let ep = sys::Epoll::new()?;
    let fds = open_conns(o, None)?;
    let mut alive: Vec<bool> = vec![true; fds.len()];
    let mut errors = 0u64;
    for (i, fd) in fds.iter().enumerate() {
        ep.add(fd.as_raw_fd(), OUT, i as u64)?;
    }
    let mut events = sys::event_buffer(1024);
    let mut phases = Phases::new(o);
    let mut window = None;
    let mut bytes = 0u64;
    while let Some(began) = phases.tick() {
        if began {
            bytes = 0;
            window = Some(Window::start(o.server_pid));
        }
        let n = ep.wait(&mut events, sys::millis_until(phases.end))?;
        for ev in &events[..n] {
            let i = ev.u64 as usize;
            if !alive[i] {
                continue;
            }
            let fd = fds[i].as_raw_fd();
            // Fill the socket until it pushes back, but come back to the clock
            // and the other connections now and then (a fast sink never pushes back).
            for _ in 0..16 {
                let r = sys::send(fd, &chunk);
                if r > 0 {
                    bytes += r as u64;
                    if (r as usize) < chunk.len() {
                        break;
                    }
                } else {
                    if r != EAGAIN && r != EINTR {
                        alive[i] = false;
                        errors += 1;
                    }
                    break;
                }
            }
        }
        if !alive.iter().any(|&a| a) {
            break;
        }
    }
    // Drain: end every stream and wait for the sink to close its side.
    let sent_done = Instant::now();
    let deadline = sent_done + Duration::from_secs(10);
    let mut scratch = [0u8; 4096];
    for (fd, _) in fds.iter().zip(&alive).filter(|(_, a)| **a) {
        let fd = fd.as_raw_fd();
        sys::shutdown_write(fd)?;
        loop {
            let r = sys::recv(fd, &mut scratch);
            if r == 0 {
                break;
            }
            if r > 0 || r == EINTR {
                continue;
            }
            if r != EAGAIN {
                errors += 1;
                break;
            }
            if !sys::wait_fd(fd, libc::POLLIN, deadline)? {
                return Err(io::Error::other(
                    "the sink server did not close after end of stream",
                ));
            }
        }
    }
    let window = window.unwrap_or_else(|| Window::start(o.server_pid));
    let mut report = window.finish("stream", "bytes/s", bytes, o);
    report.errors = errors;
    let drain = sent_done.elapsed().as_secs_f64();
    report.extra = format!(
        ",\"gb_per_s\":{:.4},\"drain_s\":{drain:.4}",
        bytes as f64 / report.seconds / 1e9
    );
    Ok(report)
}

/// The native floor of a non-blocking read on an empty socket: recv(2) into a
/// 64 KiB buffer on a connected loopback TCP socket, returning EAGAIN. No
/// server involved (it makes its own pair).
fn eagain(o: &Opts) -> io::Result<Report> {
    let (listener, port) = sys::listen_loopback(0, 1)?;
    let deadline = Instant::now() + Duration::from_secs(5);
    let _client = sys::connect_loopback(port, deadline)?;
    if !sys::wait_fd(listener.as_raw_fd(), libc::POLLIN, deadline)? {
        return Err(timed_out());
    }
    let conn = sys::accept(listener.as_raw_fd()).map_err(io::Error::from_raw_os_error)?;
    let fd = conn.as_raw_fd();
    let mut buf = vec![0u8; 64 * 1024];
    let mut phases = Phases::new(o);
    let mut window = None;
    let mut calls = 0u64;
    while let Some(began) = phases.tick() {
        if began {
            calls = 0;
            window = Some(Window::start(None));
        }
        for _ in 0..1024 {
            let r = sys::recv(fd, &mut buf);
            if r != EAGAIN {
                return Err(io::Error::other(format!(
                    "recv on an empty socket returned {r}"
                )));
            }
        }
        calls += 1024;
    }
    let window = window.unwrap_or_else(|| Window::start(None));
    let report = window.finish("eagain", "calls/s", calls, o);
    Ok(report)
}

/// UDP echo with a window: `--window` datagrams of `--size` bytes in flight
/// from one connected socket, each echo letting one more go, all through
/// recvmmsg/sendmmsg so the client stays cheap. Counts echoes (datagrams/s).
/// A datagram lost on the way (a full socket buffer) shows as 20 ms of
/// silence: the window is refilled and the loss counted in `errors`.
fn udp(o: &Opts) -> io::Result<Report> {
    if o.size > MAX_DATAGRAM {
        return Err(io::Error::other(format!(
            "--size must be <= {MAX_DATAGRAM} for udp"
        )));
    }
    let (sock, _) = sys::udp_bind_loopback(0, true)?;
    let fd = sock.as_raw_fd();
    sys::set_udp_buffers(fd)?;
    sys::udp_connect_loopback(fd, o.port)?;
    let mut out = sys::Batch::new(o.window, o.size);
    out.unnamed();
    for i in 0..o.window {
        for (j, b) in out.buf(i).iter_mut().enumerate() {
            *b = (j % 251) as u8;
        }
    }
    out.set_len(o.size);
    let mut inbox = sys::Batch::new(o.window, MAX_DATAGRAM);
    inbox.unnamed();
    let mut inflight = 0usize;
    let mut phases = Phases::new(o);
    let mut window = None;
    let mut count = 0u64;
    let mut lost = 0u64;
    while let Some(began) = phases.tick() {
        if began {
            count = 0;
            lost = 0;
            window = Some(Window::start(o.server_pid));
        }
        if inflight < o.window {
            let r = out.send(fd, o.window - inflight);
            if r > 0 {
                inflight += r as usize;
            } else if r != EAGAIN && r != EINTR {
                return Err(io::Error::from_raw_os_error(-r as i32));
            }
        }
        let r = inbox.recv(fd, o.window, libc::MSG_DONTWAIT);
        if r > 0 {
            count += r as u64;
            inflight = inflight.saturating_sub(r as usize);
        } else if r == EAGAIN {
            let quiet = Instant::now() + Duration::from_millis(20);
            if !sys::wait_fd(fd, libc::POLLIN, quiet)? {
                lost += inflight as u64;
                inflight = 0;
            }
        } else if r != EINTR {
            // ECONNREFUSED: nothing listens on the port.
            return Err(io::Error::from_raw_os_error(-r as i32));
        }
    }
    let window = window.unwrap_or_else(|| Window::start(o.server_pid));
    let mut report = window.finish("udp", "datagrams/s", count, o);
    report.errors = lost;
    report.extra = format!(",\"window\":{}", o.window);
    Ok(report)
}
