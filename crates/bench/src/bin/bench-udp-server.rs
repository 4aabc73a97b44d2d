//! The native UDP baseline: a blocking recvmmsg(2) / sendmmsg(2) echo loop.
//!
//! ```text
//! bench-udp-server [--mode udp-echo] [--port 0] [--batch 64]
//! ```
//!
//! Prints `PORT <n>` once bound to 127.0.0.1, then sends every datagram back
//! to its sender until killed or until stdin reaches end of file (when stdin
//! is a pipe or socket). Per batch: one recvmmsg (MSG_WAITFORONE: wait for
//! the first datagram, take what else is queued) and one sendmmsg of the same
//! headers, whose addresses are the senders': the floor the JS servers are
//! compared with.

#[path = "../sys.rs"]
mod sys;

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::process::ExitCode;

fn usage(msg: &str) -> ExitCode {
    eprintln!(
        "bench-udp-server: {msg}\nusage: bench-udp-server [--mode udp-echo] [--port N] [--batch N]"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut port: u16 = 0;
    let mut batch: usize = 64;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let Some(value) = args.next() else {
            return usage(&format!("{flag} needs a value"));
        };
        match flag.as_str() {
            "--mode" if value == "udp-echo" => {}
            "--port" => match value.parse() {
                Ok(p) => port = p,
                Err(_) => return usage(&format!("bad port {value}")),
            },
            "--batch" => match value.parse() {
                Ok(b) if (1..=1024).contains(&b) => batch = b,
                _ => return usage(&format!("bad batch {value}")),
            },
            _ => return usage(&format!("unknown option {flag} {value}")),
        }
    }
    match serve(port, batch) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-udp-server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(port: u16, batch: usize) -> std::io::Result<()> {
    let (sock, port) = sys::udp_bind_loopback(port, false)?;
    sys::set_udp_buffers(sock.as_raw_fd())?;
    if sys::stdin_is_pipe() {
        // The parent's leash: end of file on stdin ends the process.
        std::thread::spawn(|| {
            let mut sink = [0u8; 256];
            while matches!(std::io::stdin().read(&mut sink), Ok(n) if n > 0) {}
            std::process::exit(0);
        });
    }
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "PORT {port}")?;
        out.flush()?;
    }
    let fd = sock.as_raw_fd();
    let mut msgs = sys::Batch::new(batch, 2048);
    loop {
        let n = msgs.recv(fd, batch, libc::MSG_WAITFORONE);
        if n == -(libc::EINTR as isize) {
            continue;
        }
        if n < 0 {
            return Err(std::io::Error::from_raw_os_error(-n as i32));
        }
        // A full socket buffer on the way back drops the rest, as UDP may.
        let _ = msgs.send(fd, n as usize);
    }
}
