//! Python's `select.select()`, on poll(2) so there is no FD_SETSIZE limit.

use rustix::fd::RawFd;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::sys::{self, poll_millis};
use crate::Errno;

/// Indices into the three lists given to [`select`] of the fds found ready.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Selected {
    /// Ready to read (or at end of stream, or in error, as select(2) reports).
    pub read: Vec<usize>,
    /// Ready to write (or in error).
    pub write: Vec<usize>,
    /// With an exceptional condition (out-of-band data).
    pub except: Vec<usize>,
}

// select(2)'s sets expressed in poll(2) bits, as the Linux kernel maps them.
const READ_SET: i16 = sys::POLLIN | sys::POLLHUP | sys::POLLERR;
const WRITE_SET: i16 = sys::POLLOUT | sys::POLLERR;
const EXCEPT_SET: i16 = sys::POLLPRI;

/// Waits until some of the fds are ready or `timeout` passes (`None` = forever).
///
/// An fd may appear in several lists and several times; each is polled once.
/// On timeout all three lists are empty. EINTR restarts the wait with the time left.
///
/// # Errors
/// `EBADF` if any fd is not open (poll's POLLNVAL, as select(2) would say),
/// `EINVAL` for more fds than RLIMIT_NOFILE, `ENOMEM`.
pub fn select(
    read: &[RawFd],
    write: &[RawFd],
    except: &[RawFd],
    timeout: Option<Duration>,
) -> Result<Selected, Errno> {
    let mut pfds: Vec<sys::PollFd> = Vec::with_capacity(read.len() + write.len() + except.len());
    let mut slot: HashMap<RawFd, usize> = HashMap::new();
    for (fds, events) in [
        (read, sys::POLLIN),
        (write, sys::POLLOUT),
        (except, sys::POLLPRI),
    ] {
        for &fd in fds {
            let i = *slot.entry(fd).or_insert_with(|| {
                pfds.push(sys::pollfd(fd, 0));
                pfds.len() - 1
            });
            pfds[i].events |= events;
        }
    }
    let deadline = timeout.map(|d| Instant::now() + d);
    loop {
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        match sys::poll(&mut pfds, poll_millis(left)) {
            Err(e) if e == Errno::EINTR => continue,
            Err(e) => return Err(e),
            // The ms cap can end a long wait early: only a passed deadline is a timeout.
            Ok(0) if deadline.is_none_or(|d| Instant::now() < d) => continue,
            Ok(0) => return Ok(Selected::default()),
            Ok(_) => {}
        }
        if pfds.iter().any(|p| p.revents & sys::POLLNVAL != 0) {
            return Err(Errno::EBADF);
        }
        let ready = |fds: &[RawFd], set: i16| -> Vec<usize> {
            (0..fds.len())
                .filter(|&i| pfds[slot[&fds[i]]].revents & set != 0)
                .collect()
        };
        let selected = Selected {
            read: ready(read, READ_SET),
            write: ready(write, WRITE_SET),
            except: ready(except, EXCEPT_SET),
        };
        if selected != Selected::default() || deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(selected);
        }
        // poll(2) always reports POLLHUP/POLLERR, but select(2) counts them only
        // for the lists whose sets hold them: a hung-up fd watched for exceptions
        // alone is not ready. Returning now would look like a timeout (or break
        // `None`'s promise), and polling it again would spin on the sticky bits,
        // so stop polling such fds (poll skips a negative fd) and wait on.
        for p in &mut pfds {
            if p.revents != 0 {
                p.fd = sys::SKIP_FD;
            }
        }
    }
}
