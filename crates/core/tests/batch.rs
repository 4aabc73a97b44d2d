//! Batched datagrams on real loopback UDP: every test runs both the
//! recvmmsg/sendmmsg path and the portable sendmsg/recvmsg loop.
#![cfg(unix)]

mod util;

use std::os::fd::AsFd;
use std::time::Duration;

use bsd_sockets_core::batch::{recv_many, send_many, BatchPath, RecvMeta, MAX_BATCH};
use bsd_sockets_core::{Address, Errno, Socket};
use util::{udp_socket, WAIT};

const PATHS: [BatchPath; 2] = [BatchPath::Mmsg, BatchPath::Loop];

/// `n` buffers of `size` bytes, viewed as the slices the calls take.
fn buffers(n: usize, size: usize) -> Vec<Vec<u8>> {
    vec![vec![0u8; size]; n]
}

fn slices(bufs: &mut [Vec<u8>]) -> Vec<&mut [u8]> {
    bufs.iter_mut().map(Vec::as_mut_slice).collect()
}

fn metas(n: usize) -> Vec<RecvMeta> {
    (0..n).map(|_| RecvMeta::default()).collect()
}

fn recv(
    sock: &Socket,
    bufs: &mut [Vec<u8>],
    meta: &mut [RecvMeta],
    path: BatchPath,
) -> Result<usize, Errno> {
    recv_many(
        sock.as_fd(),
        &mut slices(bufs),
        meta,
        0,
        sock.timeout(),
        path,
    )
}

fn send(sock: &Socket, data: &[Vec<u8>], to: &[&Address], path: BatchPath) -> Result<usize, Errno> {
    let views: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
    let addrs: Vec<_> = to.iter().map(|a| a.to_sockaddr().unwrap()).collect();
    send_many(sock.as_fd(), &views, &addrs, 0, sock.timeout(), path)
}

#[test]
fn sixty_four_datagrams_keep_their_boundaries_and_sender() {
    for path in PATHS {
        let (rx, rx_addr) = udp_socket(libc::AF_INET);
        let (tx, tx_addr) = udp_socket(libc::AF_INET);
        // Sizes 1..=64, each datagram filled with its own index.
        let data: Vec<Vec<u8>> = (0..64u8).map(|i| vec![i; usize::from(i) + 1]).collect();
        assert_eq!(send(&tx, &data, &[&rx_addr], path), Ok(64), "{path:?}");
        let mut bufs = buffers(64, 128);
        let mut meta = metas(64);
        let mut got = 0;
        // Loopback delivers them all before sendmmsg returns, but be robust to a partial batch.
        while got < 64 {
            got += recv(&rx, &mut bufs[got..], &mut meta[got..], path).expect("recv_many");
        }
        for (i, (buf, m)) in bufs.iter().zip(&meta).enumerate() {
            assert_eq!(m.len(), i + 1, "{path:?} datagram {i}");
            assert!(buf[..m.len()].iter().all(|&b| usize::from(b) == i));
            assert_eq!(m.address(), tx_addr);
            assert!(!m.truncated());
        }
    }
}

#[test]
fn a_partial_batch_returns_what_is_there() {
    for path in PATHS {
        let (rx, rx_addr) = udp_socket(libc::AF_INET);
        let (tx, _) = udp_socket(libc::AF_INET);
        let data = vec![b"a".to_vec(), b"bb".to_vec(), b"ccc".to_vec()];
        assert_eq!(send(&tx, &data, &[&rx_addr], path), Ok(3));
        let mut bufs = buffers(8, 16);
        let mut meta = metas(8);
        assert_eq!(recv(&rx, &mut bufs, &mut meta, path), Ok(3), "{path:?}");
        assert_eq!(&bufs[2][..meta[2].len()], b"ccc");
    }
}

#[test]
fn blocking_mode_returns_after_the_first_datagram() {
    for path in PATHS {
        let (mut rx, rx_addr) = udp_socket(libc::AF_INET);
        rx.set_timeout(None).unwrap();
        util::bound_blocking(&rx, WAIT);
        let (tx, _) = udp_socket(libc::AF_INET);
        tx.send_to(b"one", 0, &rx_addr).unwrap();
        let mut bufs = buffers(4, 16);
        let mut meta = metas(4);
        // MSG_WAITFORONE (or the loop's MSG_DONTWAIT after the first): no wait for 4.
        assert_eq!(recv(&rx, &mut bufs, &mut meta, path), Ok(1), "{path:?}");
    }
}

#[test]
fn empty_nonblocking_socket_is_eagain_and_timed_is_etimedout() {
    for path in PATHS {
        let (mut rx, _) = udp_socket(libc::AF_INET);
        let mut bufs = buffers(4, 16);
        let mut meta = metas(4);
        rx.set_timeout(Some(Duration::ZERO)).unwrap();
        let err = recv(&rx, &mut bufs, &mut meta, path).unwrap_err();
        assert!(err.is_would_block(), "{path:?}: {err:?}");
        rx.set_timeout(Some(Duration::from_millis(20))).unwrap();
        assert_eq!(recv(&rx, &mut bufs, &mut meta, path), Err(Errno::ETIMEDOUT));
    }
}

#[test]
fn empty_batch_is_zero_and_oversized_batch_is_einval() {
    for path in PATHS {
        let (rx, rx_addr) = udp_socket(libc::AF_INET);
        assert_eq!(recv(&rx, &mut [], &mut [], path), Ok(0));
        assert_eq!(send(&rx, &[], &[&rx_addr], path), Ok(0));
        let mut bufs = buffers(MAX_BATCH + 1, 1);
        let mut meta = metas(MAX_BATCH + 1);
        assert_eq!(recv(&rx, &mut bufs, &mut meta, path), Err(Errno::EINVAL));
        assert_eq!(send(&rx, &bufs, &[&rx_addr], path), Err(Errno::EINVAL));
        // Two addresses for three datagrams.
        let three = buffers(3, 1);
        assert_eq!(
            send(&rx, &three, &[&rx_addr, &rx_addr], path),
            Err(Errno::EINVAL)
        );
    }
}

#[test]
fn truncation_is_flagged_per_datagram() {
    for path in PATHS {
        let (rx, rx_addr) = udp_socket(libc::AF_INET);
        let (tx, _) = udp_socket(libc::AF_INET);
        let data = vec![vec![7u8; 4], vec![8u8; 100]];
        assert_eq!(send(&tx, &data, &[&rx_addr], path), Ok(2));
        let mut bufs = buffers(2, 10);
        let mut meta = metas(2);
        assert_eq!(recv(&rx, &mut bufs, &mut meta, path), Ok(2));
        assert!(!meta[0].truncated());
        assert!(meta[1].truncated(), "{path:?}");
        assert_eq!(meta[1].len(), 10);
        assert_ne!(meta[1].flags() & libc::MSG_TRUNC, 0);
    }
}

#[test]
fn too_large_first_datagram_is_emsgsize() {
    for path in PATHS {
        let (tx, tx_addr) = udp_socket(libc::AF_INET);
        let data = vec![vec![0u8; 70_000], vec![1u8; 10]];
        assert_eq!(send(&tx, &data, &[&tx_addr], path), Err(Errno::EMSGSIZE));
        // After the first one went out, the batch stops at the bad one and counts.
        let data = vec![vec![1u8; 10], vec![0u8; 70_000], vec![1u8; 10]];
        assert_eq!(send(&tx, &data, &[&tx_addr], path), Ok(1), "{path:?}");
    }
}

#[test]
fn one_address_per_datagram() {
    for path in PATHS {
        let (a, a_addr) = udp_socket(libc::AF_INET);
        let (b, b_addr) = udp_socket(libc::AF_INET);
        let (tx, _) = udp_socket(libc::AF_INET);
        let data = vec![b"to-a".to_vec(), b"to-b".to_vec()];
        assert_eq!(
            send(&tx, &data, &[&a_addr, &b_addr], path),
            Ok(2),
            "{path:?}"
        );
        let mut buf = [0u8; 16];
        assert_eq!(a.recv_into(&mut buf, 0), Ok(4));
        assert_eq!(&buf[..4], b"to-a");
        assert_eq!(b.recv_into(&mut buf, 0), Ok(4));
        assert_eq!(&buf[..4], b"to-b");
    }
}

#[test]
fn connected_socket_needs_no_address_and_unconnected_one_does() {
    for path in PATHS {
        let (rx, rx_addr) = udp_socket(libc::AF_INET);
        let (tx, _) = udp_socket(libc::AF_INET);
        let data = vec![b"x".to_vec()];
        assert_eq!(send(&tx, &data, &[], path), Err(Errno::EDESTADDRREQ));
        tx.connect(&rx_addr).unwrap();
        assert_eq!(send(&tx, &data, &[], path), Ok(1));
        let mut bufs = buffers(1, 4);
        let mut meta = metas(1);
        assert_eq!(recv(&rx, &mut bufs, &mut meta, path), Ok(1));
    }
}

#[test]
fn connected_peer_gone_is_econnrefused() {
    for path in PATHS {
        let (tx, _) = udp_socket(libc::AF_INET);
        let gone = {
            let (s, addr) = udp_socket(libc::AF_INET);
            drop(s);
            addr
        };
        tx.connect(&gone).unwrap();
        assert_eq!(send(&tx, &[b"x".to_vec()], &[], path), Ok(1));
        // The ICMP port unreachable comes back as the socket's error.
        let mut bufs = buffers(1, 4);
        let mut meta = metas(1);
        assert_eq!(
            recv(&tx, &mut bufs, &mut meta, path),
            Err(Errno::ECONNREFUSED),
            "{path:?}"
        );
    }
}

#[test]
fn an_unbound_unix_sender_has_no_address_even_in_a_reused_slot() {
    for path in PATHS {
        let dir = tempfile::tempdir().unwrap();
        let at =
            |name: &str| Address::Unix(dir.path().join(name).into_os_string().into_encoded_bytes());
        let rx = Socket::new(libc::AF_UNIX, libc::SOCK_DGRAM, 0).unwrap();
        rx.bind(&at("rx")).unwrap();
        let named = Socket::new(libc::AF_UNIX, libc::SOCK_DGRAM, 0).unwrap();
        named.bind(&at("named")).unwrap();
        let unbound = Socket::new(libc::AF_UNIX, libc::SOCK_DGRAM, 0).unwrap();
        let mut bufs = buffers(1, 4);
        let mut meta = metas(1);
        named.send_to(b"n", 0, &at("rx")).unwrap();
        assert_eq!(recv(&rx, &mut bufs, &mut meta, path), Ok(1));
        assert_eq!(meta[0].address(), at("named"), "{path:?}");
        // The same slot again: the named sender's address must not show through.
        unbound.send_to(b"u", 0, &at("rx")).unwrap();
        assert_eq!(recv(&rx, &mut bufs, &mut meta, path), Ok(1));
        assert_eq!(
            meta[0].address(),
            Address::Other(libc::AF_UNSPEC),
            "{path:?}"
        );
    }
}

#[test]
fn unix_datagrams_and_closed_or_non_socket_fds() {
    for path in PATHS {
        let (a, b) = util::unix_pair(libc::SOCK_DGRAM);
        assert_eq!(
            send(&a, &[b"u1".to_vec(), b"u2".to_vec()], &[], path),
            Ok(2)
        );
        let mut bufs = buffers(2, 4);
        let mut meta = metas(2);
        assert_eq!(recv(&b, &mut bufs, &mut meta, path), Ok(2));
        assert_eq!(&bufs[1][..2], b"u2");
    }
    // A pipe is not a socket.
    let mut fds = [0; 2];
    // SAFETY: `fds` is a valid out-array of two ints.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    for path in PATHS {
        // SAFETY: the pipe's read end is open for this borrow.
        let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fds[0]) };
        let mut bufs = buffers(1, 4);
        let mut meta = metas(1);
        let mut views = slices(&mut bufs);
        assert_eq!(
            recv_many(fd, &mut views, &mut meta, 0, None, path),
            Err(Errno::ENOTSOCK)
        );
    }
    // SAFETY: closing the two fds pipe() gave us.
    unsafe {
        libc::close(fds[0]);
        libc::close(fds[1]);
    }
}
