//! `TCP_INFO`: a connection's state and counters, as the kernel keeps them.
//!
//! Linux fills `struct tcp_info`; macOS has `TCP_CONNECTION_INFO` with fewer
//! fields; elsewhere [`tcp_info`] fails with `EOPNOTSUPP`. Times are in
//! microseconds on every platform. A field the platform or the running
//! kernel does not give is `None` (Linux grew the struct over the years:
//! the kernel copies only the part it knows and says how long it was).

use rustix::fd::{AsRawFd, BorrowedFd};

use crate::Errno;

/// A TCP connection's state (the kernel's `TCP_*` state) and counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TcpInfo {
    /// The state's name: `"ESTABLISHED"`, `"LISTEN"`, `"CLOSE_WAIT"`, ...
    pub state: &'static str,
    /// Retransmits of the current unacknowledged segment (Linux).
    pub retransmits: Option<u32>,
    /// Retransmission timeout, µs.
    pub rto: Option<u32>,
    /// Smoothed round-trip time, µs.
    pub rtt: Option<u32>,
    /// Round-trip time variance, µs.
    pub rttvar: Option<u32>,
    /// Lowest round-trip time seen, µs (Linux 4.6+).
    pub min_rtt: Option<u32>,
    /// Sending MSS, bytes.
    pub snd_mss: Option<u32>,
    /// Receiving MSS estimate, bytes (Linux).
    pub rcv_mss: Option<u32>,
    /// Path MTU, bytes (Linux).
    pub pmtu: Option<u32>,
    /// Congestion window, segments on Linux, bytes on macOS.
    pub snd_cwnd: Option<u32>,
    /// Slow-start threshold.
    pub snd_ssthresh: Option<u32>,
    /// Segments sent and not yet acknowledged (Linux).
    pub unacked: Option<u32>,
    /// Segments considered lost (Linux).
    pub lost: Option<u32>,
    /// Retransmitted segments in flight (Linux).
    pub retrans: Option<u32>,
    /// Retransmitted segments over the connection's life (Linux).
    pub total_retrans: Option<u32>,
    /// Bytes acknowledged by the peer (Linux 4.1+).
    pub bytes_acked: Option<u64>,
    /// Bytes received and acknowledged (Linux 4.1+; macOS: bytes received).
    pub bytes_received: Option<u64>,
    /// Bytes sent, retransmissions included (Linux 4.19+, macOS).
    pub bytes_sent: Option<u64>,
    /// Bytes retransmitted (Linux 4.19+, macOS).
    pub bytes_retrans: Option<u64>,
    /// Segments sent (Linux 4.2+; macOS: packets).
    pub segs_out: Option<u64>,
    /// Segments received (Linux 4.2+; macOS: packets).
    pub segs_in: Option<u64>,
    /// Bytes written and not yet sent (Linux 4.6+).
    pub notsent_bytes: Option<u32>,
}

/// Reads `TCP_INFO` of a TCP socket.
///
/// Corresponds to `getsockopt(IPPROTO_TCP, TCP_INFO)`, see
/// [`tcp(7)`](https://man7.org/linux/man-pages/man7/tcp.7.html).
///
/// # Errors
/// `EOPNOTSUPP` on a socket that is not TCP (UDP, Unix; some kernels say `ENOPROTOOPT`),
/// `EOPNOTSUPP` where the platform has no such option, `EBADF`, `ENOTSOCK`.
pub fn tcp_info(fd: BorrowedFd<'_>) -> Result<TcpInfo, Errno> {
    imp::tcp_info(fd.as_raw_fd())
}

// Platform cfg outside sys.rs: each platform has its own struct and state numbers.
#[cfg(any(target_os = "linux", target_os = "android"))]
mod imp {
    use std::mem::offset_of;

    use super::TcpInfo;
    use crate::sys::getsockopt_struct;
    use crate::Errno;

    /// Linux's `enum tcp_state` (include/net/tcp_states.h), which libc does not export.
    const STATES: [&str; 12] = [
        "UNKNOWN",
        "ESTABLISHED",
        "SYN_SENT",
        "SYN_RECV",
        "FIN_WAIT1",
        "FIN_WAIT2",
        "TIME_WAIT",
        "CLOSE",
        "CLOSE_WAIT",
        "LAST_ACK",
        "LISTEN",
        "CLOSING",
    ];

    pub(super) fn tcp_info(fd: i32) -> Result<TcpInfo, Errno> {
        // SAFETY: tcp_info is a plain-old-data C struct.
        let (t, len) =
            unsafe { getsockopt_struct::<libc::tcp_info>(fd, libc::IPPROTO_TCP, libc::TCP_INFO)? };
        // Some(field) only when the kernel's copy reached its end.
        macro_rules! has {
            ($field:ident) => {
                (offset_of!(libc::tcp_info, $field) + std::mem::size_of_val(&t.$field) <= len)
                    .then(|| t.$field.into())
            };
        }
        Ok(TcpInfo {
            state: STATES
                .get(usize::from(t.tcpi_state))
                .copied()
                .unwrap_or("UNKNOWN"),
            retransmits: has!(tcpi_retransmits),
            rto: has!(tcpi_rto),
            rtt: has!(tcpi_rtt),
            rttvar: has!(tcpi_rttvar),
            min_rtt: has!(tcpi_min_rtt),
            snd_mss: has!(tcpi_snd_mss),
            rcv_mss: has!(tcpi_rcv_mss),
            pmtu: has!(tcpi_pmtu),
            snd_cwnd: has!(tcpi_snd_cwnd),
            snd_ssthresh: has!(tcpi_snd_ssthresh),
            unacked: has!(tcpi_unacked),
            lost: has!(tcpi_lost),
            retrans: has!(tcpi_retrans),
            total_retrans: has!(tcpi_total_retrans),
            bytes_acked: has!(tcpi_bytes_acked),
            bytes_received: has!(tcpi_bytes_received),
            bytes_sent: has!(tcpi_bytes_sent),
            bytes_retrans: has!(tcpi_bytes_retrans),
            segs_out: has!(tcpi_segs_out),
            segs_in: has!(tcpi_segs_in),
            notsent_bytes: has!(tcpi_notsent_bytes),
        })
    }
}

#[cfg(target_vendor = "apple")]
mod imp {
    use super::TcpInfo;
    use crate::sys::getsockopt_struct;
    use crate::Errno;

    /// BSD's `TCPS_*` states (netinet/tcp_fsm.h), named as Linux names them.
    const STATES: [&str; 11] = [
        "CLOSE",
        "LISTEN",
        "SYN_SENT",
        "SYN_RECV",
        "ESTABLISHED",
        "CLOSE_WAIT",
        "FIN_WAIT1",
        "CLOSING",
        "LAST_ACK",
        "FIN_WAIT2",
        "TIME_WAIT",
    ];

    pub(super) fn tcp_info(fd: i32) -> Result<TcpInfo, Errno> {
        // SAFETY: tcp_connection_info is a plain-old-data C struct.
        let (t, _) = unsafe {
            getsockopt_struct::<libc::tcp_connection_info>(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_CONNECTION_INFO,
            )?
        };
        // Times come in milliseconds there.
        let us = |ms: u32| Some(ms.saturating_mul(1000));
        Ok(TcpInfo {
            state: STATES
                .get(usize::from(t.tcpi_state))
                .copied()
                .unwrap_or("UNKNOWN"),
            rto: us(t.tcpi_rto),
            rtt: us(t.tcpi_srtt),
            rttvar: us(t.tcpi_rttvar),
            snd_mss: Some(t.tcpi_maxseg),
            snd_cwnd: Some(t.tcpi_snd_cwnd),
            snd_ssthresh: Some(t.tcpi_snd_ssthresh),
            bytes_received: Some(t.tcpi_rxbytes),
            bytes_sent: Some(t.tcpi_txbytes),
            bytes_retrans: Some(t.tcpi_txretransmitbytes),
            segs_out: Some(t.tcpi_txpackets),
            segs_in: Some(t.tcpi_rxpackets),
            ..TcpInfo::default()
        })
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_vendor = "apple")))]
mod imp {
    use super::TcpInfo;
    use crate::Errno;

    pub(super) fn tcp_info(_fd: rustix::fd::RawFd) -> Result<TcpInfo, Errno> {
        Err(Errno::EOPNOTSUPP)
    }
}
