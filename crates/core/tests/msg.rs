//! sendmsg/recvmsg: vectored I/O, descriptors passed for real (SCM_RIGHTS),
//! generic control messages, SOCK_SEQPACKET boundaries, peer credentials, and
//! every errno these calls expose, provoked on real sockets.
#![cfg(unix)]

mod util;

use std::fs::File;
use std::io::{IoSlice, IoSliceMut, Read, Seek, SeekFrom, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
use std::thread;
use std::time::Duration;

use bsd_sockets_core::msg::{
    cmsg_len, cmsg_space, recv_fds, send_fds, Ancillary, Cmsg, Received, FLAGS_LIMIT,
};
use bsd_sockets_core::{Address, Errno, Socket};
use util::{closed_fd, is_cloexec, is_open, udp_socket, unix_pair, WAIT};

const INT: usize = std::mem::size_of::<libc::c_int>();

/// The fds of every SCM_RIGHTS message in `r`, taken out of it.
fn take_fds(r: &mut Received) -> Vec<OwnedFd> {
    let mut out = Vec::new();
    for a in r.ancillary.drain(..) {
        if let Ancillary::Fds(fds) = a {
            out.extend(fds);
        }
    }
    out
}

/// A pipe: (read end, write end).
fn pipe() -> (File, File) {
    let mut fds = [0; 2];
    // SAFETY: `fds` is a valid out-array of two ints.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: pipe just opened both fds for us alone.
    unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) }
}

fn recv_one(sock: &Socket, bufsize: usize, ancbufsize: usize) -> (Vec<u8>, Received) {
    let mut buf = vec![0; bufsize];
    let r = sock
        .recvmsg(&mut [IoSliceMut::new(&mut buf)], ancbufsize, 0)
        .expect("recvmsg");
    buf.truncate(r.nbytes);
    (buf, r)
}

#[test]
fn three_buffers_go_out_as_one_stream() {
    let (a, b) = unix_pair(libc::SOCK_STREAM);
    let bufs = [
        IoSlice::new(b"head:"),
        IoSlice::new(b""),
        IoSlice::new(b"body"),
        IoSlice::new(b";tail"),
    ];
    assert_eq!(a.sendmsg(&bufs, &[], 0, None), Ok(14));
    assert_eq!(util::recv_exact(&b, 14), b"head:body;tail");
}

#[test]
fn recvmsg_scatters_over_buffers_in_order() {
    let (a, b) = unix_pair(libc::SOCK_DGRAM);
    a.send(b"0123456789", 0).unwrap();
    let (mut first, mut second) = ([0u8; 4], [0u8; 16]);
    let r = b
        .recvmsg(
            &mut [IoSliceMut::new(&mut first), IoSliceMut::new(&mut second)],
            0,
            0,
        )
        .unwrap();
    assert_eq!(r.nbytes, 10);
    assert_eq!(&first, b"0123");
    assert_eq!(&second[..6], b"456789");
    assert_eq!(r.flags, 0, "no flag set, none added by the call");
    assert!(r.ancillary.is_empty());
}

#[test]
fn passed_file_and_socket_are_the_same_objects() {
    let (a, b) = unix_pair(libc::SOCK_STREAM);
    let mut file = tempfile::tempfile().unwrap();
    let (other, peer) = unix_pair(libc::SOCK_STREAM);
    let sent = send_fds(
        a.as_fd(),
        &[IoSlice::new(b"fds")],
        &[file.as_fd(), other.as_fd()],
        0,
        a.timeout(),
    );
    assert_eq!(sent, Ok(3));
    let (data, mut r) = recv_one(&b, 16, cmsg_space(2 * INT).unwrap());
    assert_eq!(data, b"fds");
    assert_eq!(r.flags & libc::MSG_CTRUNC, 0);
    let mut fds = take_fds(&mut r).into_iter();
    let (got_file, got_sock) = (fds.next().unwrap(), fds.next().unwrap());
    assert!(fds.next().is_none());
    // New numbers, CLOEXEC, open on the same file and the same socket.
    assert_ne!(got_file.as_raw_fd(), file.as_raw_fd());
    assert!(is_cloexec(&got_file) && is_cloexec(&got_sock));
    let mut got_file = File::from(got_file);
    got_file.write_all(b"through the passed fd").unwrap();
    file.seek(SeekFrom::Start(0)).unwrap();
    let mut text = String::new();
    file.read_to_string(&mut text).unwrap();
    assert_eq!(text, "through the passed fd");
    // SAFETY: `got_sock` is the socket fd just received; ownership moves to the Socket.
    let got_sock = unsafe { Socket::from_raw_fd_checked(got_sock.into_raw_fd()) }.unwrap();
    assert_eq!(got_sock.socktype(), libc::SOCK_STREAM);
    drop(other); // the received copy alone keeps the connection open now
    got_sock.send(b"via the copy", 0).unwrap();
    assert_eq!(util::recv_exact(&peer, 12), b"via the copy");
}

#[test]
fn fds_that_do_not_fit_are_closed_and_flagged() {
    // Three references to a pipe's write end travel; the read end sees EOF only once
    // every copy is closed, so a copy leaked into our table would show as EAGAIN.
    for room in [0, 1] {
        let (a, b) = unix_pair(libc::SOCK_STREAM);
        let (mut rd, wr) = pipe();
        let w = wr.as_fd();
        send_fds(a.as_fd(), &[IoSlice::new(b"x")], &[w, w, w], 0, a.timeout()).unwrap();
        drop(wr);
        // CMSG_LEN, not CMSG_SPACE: the padding of CMSG_SPACE(4) would hold a second int on 64-bit.
        let ancbufsize = if room == 0 { 0 } else { cmsg_len(INT).unwrap() };
        let (data, mut r) = recv_one(&b, 4, ancbufsize);
        assert_eq!(data, b"x");
        assert_ne!(
            r.flags & libc::MSG_CTRUNC,
            0,
            "room for {room}: MSG_CTRUNC not set"
        );
        let fds = take_fds(&mut r);
        assert_eq!(fds.len(), room);
        assert!(fds.iter().all(is_cloexec));
        if room == 1 {
            // The one that fit works: the pipe is still open for writing through it.
            File::from(fds.into_iter().next().unwrap())
                .write_all(b"!")
                .unwrap();
        }
        let mut rest = Vec::new();
        rd.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, if room == 1 { &b"!"[..] } else { &b""[..] });
    }
}

#[test]
fn recv_fds_keeps_what_fits_and_closes_the_rest() {
    // Three pipes' write ends travel, room for one. A pipe's read end sees EOF only once
    // every copy of its write end is closed, wherever its number: so EOF on the other two
    // proves that no copy of theirs is open anywhere in this process.
    let (a, b) = unix_pair(libc::SOCK_STREAM);
    let (reads, writes): (Vec<File>, Vec<File>) = (0..3).map(|_| pipe()).unzip();
    let ends: Vec<_> = writes.iter().map(AsFd::as_fd).collect();
    send_fds(a.as_fd(), &[IoSlice::new(b"fds")], &ends, 0, a.timeout()).unwrap();
    drop(writes);
    let mut buf = [0u8; 16];
    let r = recv_fds(b.as_fd(), &mut buf, 1, 0, b.timeout()).unwrap();
    assert_eq!(&buf[..r.nbytes], b"fds");
    assert_ne!(r.flags & libc::MSG_CTRUNC, 0, "two fds did not fit");
    assert_eq!(r.address, None);
    let [kept]: [OwnedFd; 1] = r.fds.try_into().expect("exactly the one fd asked for");
    // F_GETFD: the kept fd is open, and CLOEXEC.
    assert!(is_open(kept.as_raw_fd()) && is_cloexec(&kept));
    let mut reads = reads.into_iter();
    let mut first = reads.next().unwrap();
    File::from(kept).write_all(b"first").unwrap(); // and closed by the drop here
    let mut text = Vec::new();
    first.read_to_end(&mut text).unwrap();
    assert_eq!(text, b"first");
    for mut rd in reads {
        let mut rest = Vec::new();
        rd.read_to_end(&mut rest).unwrap(); // EOF at once, no writer left: closed
        assert!(rest.is_empty());
    }
}

#[test]
fn received_flags_stay_below_the_limit_the_packing_relies_on() {
    // nbytes (below 2^32) + 2^32 * flags is an exact double only below 2^53.
    assert_eq!(i64::from(FLAGS_LIMIT) << 32, 1 << 53);
    // Every flag recvmsg(2) reports on the sockets served here is below the limit.
    for flag in [
        libc::MSG_OOB,
        libc::MSG_EOR,
        libc::MSG_TRUNC,
        libc::MSG_CTRUNC,
    ] {
        assert!((0..FLAGS_LIMIT).contains(&flag), "{flag:#x}");
    }
    // Linux's error-queue reads (IP_RECVERR) report one more flag.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    assert!((0..FLAGS_LIMIT).contains(&libc::MSG_ERRQUEUE));
    // And for real: a datagram and its descriptors both cut short. Linux echoes the
    // MSG_CMSG_CLOEXEC every call asks for (2^30), which must not show.
    let (a, b) = unix_pair(libc::SOCK_DGRAM);
    let (_rd, wr) = pipe();
    let w = wr.as_fd();
    send_fds(
        a.as_fd(),
        &[IoSlice::new(b"longer")],
        &[w, w],
        0,
        a.timeout(),
    )
    .unwrap();
    let mut buf = [0u8; 2];
    let r = recv_fds(b.as_fd(), &mut buf, 1, 0, b.timeout()).unwrap();
    assert_eq!(r.flags, libc::MSG_TRUNC | libc::MSG_CTRUNC);
    assert!((0..FLAGS_LIMIT).contains(&r.flags));
}

#[test]
fn received_fds_stay_owned_when_not_taken() {
    let (a, b) = unix_pair(libc::SOCK_STREAM);
    let (mut rd, wr) = pipe();
    send_fds(
        a.as_fd(),
        &[IoSlice::new(b"y")],
        &[wr.as_fd()],
        0,
        a.timeout(),
    )
    .unwrap();
    drop(wr);
    let (_, r) = recv_one(&b, 4, cmsg_space(INT).unwrap());
    let fd = match &r.ancillary[..] {
        [Ancillary::Fds(fds)] => fds[0].as_raw_fd(),
        other => panic!("expected one SCM_RIGHTS message, got {other:?}"),
    };
    assert!(is_open(fd));
    drop(r);
    let mut rest = Vec::new();
    rd.read_to_end(&mut rest).unwrap(); // EOF: dropping the result closed the fd
    assert!(rest.is_empty());
}

#[test]
fn generic_control_messages_round_trip_raw_rights() {
    // SCM_RIGHTS sent as raw (level, type, bytes), Python's ancdata shape.
    let (a, b) = unix_pair(libc::SOCK_DGRAM);
    let (_rd, wr) = pipe();
    let data = wr.as_raw_fd().to_ne_bytes();
    let cmsg = Cmsg {
        level: libc::SOL_SOCKET,
        kind: libc::SCM_RIGHTS,
        data: &data,
    };
    assert_eq!(a.sendmsg(&[IoSlice::new(b"raw")], &[cmsg], 0, None), Ok(3));
    let (_, mut r) = recv_one(&b, 8, 64);
    assert_eq!(take_fds(&mut r).len(), 1);
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn scm_credentials_arrive_as_data() {
    let (a, b) = unix_pair(libc::SOCK_DGRAM);
    b.setsockopt_int(libc::SOL_SOCKET, libc::SO_PASSCRED, 1)
        .unwrap();
    a.send(b"who", 0).unwrap();
    let (_, r) = recv_one(
        &b,
        8,
        cmsg_space(std::mem::size_of::<libc::ucred>()).unwrap(),
    );
    match &r.ancillary[..] {
        [Ancillary::Data { level, kind, data }] => {
            assert_eq!((*level, *kind), (libc::SOL_SOCKET, libc::SCM_CREDENTIALS));
            let pid = i32::from_ne_bytes(data[..4].try_into().unwrap());
            assert_eq!(pid as u32, std::process::id());
        }
        other => panic!("expected SCM_CREDENTIALS, got {other:?}"),
    }
}

#[test]
fn sendmsg_to_an_address_over_udp_and_recvmsg_names_the_sender() {
    let (rx, rx_addr) = udp_socket(libc::AF_INET);
    let (tx, tx_addr) = udp_socket(libc::AF_INET);
    let bufs = [IoSlice::new(b"da"), IoSlice::new(b"ta")];
    assert_eq!(tx.sendmsg(&bufs, &[], 0, Some(&rx_addr)), Ok(4));
    let (data, r) = recv_one(&rx, 16, 0);
    assert_eq!(data, b"data");
    assert_eq!(r.address, Some(tx_addr));
}

#[test]
fn seqpacket_keeps_boundaries_and_reports_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let path = Address::Unix(dir.path().join("seq").into_os_string().into_encoded_bytes());
    let listener = util::socket(libc::AF_UNIX, libc::SOCK_SEQPACKET);
    listener.bind(&path).unwrap();
    listener.listen(4).unwrap();
    let client = util::socket(libc::AF_UNIX, libc::SOCK_SEQPACKET);
    client.connect(&path).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    server.set_timeout(Some(WAIT)).unwrap();
    assert_eq!(server.socktype(), libc::SOCK_SEQPACKET);
    for m in [&b"one"[..], b"two!", b"a longer third message"] {
        client.send(m, 0).unwrap();
    }
    let mut buf = [0u8; 8];
    assert_eq!(server.recv_into(&mut buf, 0), Ok(3));
    assert_eq!(server.recv_into(&mut buf, 0), Ok(4));
    let (data, r) = recv_one(&server, 8, 0);
    assert_eq!(data, b"a longer");
    assert_ne!(r.flags & libc::MSG_TRUNC, 0);
    // The rest of a truncated record is gone, not the start of the next read.
    client.send(b"next", 0).unwrap();
    let (data, r) = recv_one(&server, 8, 0);
    assert_eq!(data, b"next");
    assert_eq!(r.flags & libc::MSG_TRUNC, 0);
    drop(client);
    assert_eq!(recv_one(&server, 8, 0).1.nbytes, 0);
}

#[test]
fn peer_credentials_are_our_own_over_a_socketpair() {
    let (a, b) = unix_pair(libc::SOCK_STREAM);
    for s in [&a, &b] {
        let cred = s.peer_credentials().unwrap();
        // SAFETY: getuid/getgid cannot fail.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        assert_eq!((cred.uid, cred.gid), (uid, gid));
        if let Some(pid) = cred.pid {
            assert_eq!(pid as u32, std::process::id());
        }
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    assert!(a.peer_credentials().unwrap().pid.is_some());
}

#[test]
fn peer_credentials_need_a_connected_unix_socket() {
    let lone = util::socket(libc::AF_UNIX, libc::SOCK_STREAM);
    assert_eq!(lone.peer_credentials(), Err(Errno::ENOTCONN));
    let dir = tempfile::tempdir().unwrap();
    let path = Address::Unix(dir.path().join("l").into_os_string().into_encoded_bytes());
    lone.bind(&path).unwrap();
    lone.listen(1).unwrap();
    assert_eq!(lone.peer_credentials(), Err(Errno::ENOTCONN));
    let (tcp, _) = util::tcp_pair(libc::AF_INET);
    assert_eq!(tcp.peer_credentials(), Err(Errno::EOPNOTSUPP));
}

#[test]
fn errnos() {
    let (a, b) = unix_pair(libc::SOCK_STREAM);
    let x = [IoSlice::new(b"x")];
    // EAGAIN: non-blocking, nothing queued.
    let mut nb = b.try_clone().unwrap();
    nb.set_timeout(Some(Duration::ZERO)).unwrap();
    let mut buf = [0u8; 4];
    let mut bufs = [IoSliceMut::new(&mut buf)];
    assert!(nb.recvmsg(&mut bufs, 64, 0).unwrap_err().is_would_block());
    // ETIMEDOUT: timed, nothing queued.
    nb.set_timeout(Some(Duration::from_millis(20))).unwrap();
    assert_eq!(nb.recvmsg(&mut bufs, 0, 0).unwrap_err(), Errno::ETIMEDOUT);
    // EBADF: an SCM_RIGHTS entry that is not an open fd; nothing is sent.
    let bad = closed_fd().to_ne_bytes();
    let rights = Cmsg {
        level: libc::SOL_SOCKET,
        kind: libc::SCM_RIGHTS,
        data: &bad,
    };
    assert_eq!(a.sendmsg(&x, &[rights], 0, None), Err(Errno::EBADF));
    // EINVAL: a SOL_SOCKET message type the kernel does not know.
    let odd = Cmsg {
        level: libc::SOL_SOCKET,
        kind: 0x7fff,
        data: &[0; 4],
    };
    assert_eq!(a.sendmsg(&x, &[odd], 0, None), Err(Errno::EINVAL));
    // EMSGSIZE: more buffers than IOV_MAX.
    let many = vec![IoSlice::new(b"z"); 4096];
    assert_eq!(a.sendmsg(&many, &[], 0, None), Err(Errno::EMSGSIZE));
    // ENOTCONN: an unconnected stream socket.
    let lone = util::socket(libc::AF_UNIX, libc::SOCK_STREAM);
    assert_eq!(lone.sendmsg(&x, &[], 0, None), Err(Errno::ENOTCONN));
    // EDESTADDRREQ: an unconnected datagram socket and no address.
    let (udp, _) = udp_socket(libc::AF_INET);
    assert_eq!(udp.sendmsg(&x, &[], 0, None), Err(Errno::EDESTADDRREQ));
    // EMSGSIZE: a datagram larger than the socket can ever send.
    let (d1, _d2) = unix_pair(libc::SOCK_DGRAM);
    let huge = vec![0u8; 4 << 20];
    assert_eq!(
        d1.sendmsg(&[IoSlice::new(&huge)], &[], 0, None),
        Err(Errno::EMSGSIZE)
    );
    // EINVAL: room for more descriptors than a control buffer can size.
    let got = recv_fds(b.as_fd(), &mut buf, usize::MAX, 0, b.timeout());
    assert_eq!(got.map(|r| r.nbytes), Err(Errno::EINVAL));
    // Nothing of the failed sends arrived.
    drop(a);
    assert_eq!(util::recv_exact(&b, 1), b"");
}

#[test]
fn blocking_recvmsg_waits_for_a_sender_thread() {
    let (a, mut b) = unix_pair(libc::SOCK_STREAM);
    b.set_timeout(None).unwrap();
    util::bound_blocking(&b, WAIT);
    let sender = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        send_fds(a.as_fd(), &[IoSlice::new(b"late")], &[a.as_fd()], 0, None)
    });
    let (data, mut r) = recv_one(&b, 8, cmsg_space(INT).unwrap());
    assert_eq!(sender.join().unwrap(), Ok(4));
    assert_eq!(data, b"late");
    assert_eq!(take_fds(&mut r).len(), 1);
}

#[test]
fn cmsg_sizes() {
    assert_eq!(cmsg_len(0).unwrap(), std::mem::size_of::<libc::cmsghdr>());
    assert!(cmsg_space(INT).unwrap() >= cmsg_len(INT).unwrap());
    assert_eq!(cmsg_len(usize::MAX), None);
    assert_eq!(cmsg_space(u32::MAX as usize), None);
}
