//! TCP_INFO on real loopback connections.
#![cfg(unix)]

mod util;

use bsd_sockets_core::Errno;
use util::{recv_exact, tcp_listener, tcp_pair, udp_socket};

#[test]
fn listener_is_listen() {
    let (listener, _) = tcp_listener(libc::AF_INET);
    assert_eq!(listener.tcp_info().unwrap().state, "LISTEN");
}

#[test]
fn connected_pair_counts_bytes_acked_and_received() {
    let (client, server) = tcp_pair(libc::AF_INET6);
    let before = client.tcp_info().unwrap();
    assert_eq!(before.state, "ESTABLISHED");
    assert_eq!(server.tcp_info().unwrap().state, "ESTABLISHED");
    let data = vec![5u8; 100_000];
    let mut sent = 0;
    client.sendall(&data, 0, &mut sent).unwrap();
    assert_eq!(recv_exact(&server, data.len()).len(), data.len());
    let acked = client.tcp_info().unwrap().bytes_acked.expect("bytes_acked");
    let received = server
        .tcp_info()
        .unwrap()
        .bytes_received
        .expect("bytes_received");
    // The handshake counts one byte each way on top of the data.
    assert!(
        acked >= before.bytes_acked.unwrap() + data.len() as u64,
        "{acked}"
    );
    assert!(received >= data.len() as u64, "{received}");
    let info = client.tcp_info().unwrap();
    assert!(info.snd_mss.unwrap() > 0 && info.snd_cwnd.unwrap() > 0);
    assert!(info.bytes_sent.unwrap() >= data.len() as u64);
}

#[test]
fn after_the_peer_closes_it_is_close_wait() {
    let (client, server) = tcp_pair(libc::AF_INET);
    drop(client);
    // End of stream: the FIN has arrived, so the state has moved.
    assert_eq!(server.recv_into(&mut [0u8; 4], 0), Ok(0));
    assert_eq!(server.tcp_info().unwrap().state, "CLOSE_WAIT");
}

#[test]
fn not_tcp_is_an_error() {
    let (udp, _) = udp_socket(libc::AF_INET);
    assert_eq!(udp.tcp_info(), Err(Errno::EOPNOTSUPP));
    let (unix, _) = util::unix_pair(libc::SOCK_STREAM);
    assert_eq!(unix.tcp_info(), Err(Errno::EOPNOTSUPP));
}
