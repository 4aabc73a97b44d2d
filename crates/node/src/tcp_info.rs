//! `NativeSocket.tcpInfo()`: core's `TcpInfo` as a plain JS object.

use bsd_sockets_core::TcpInfo;
use napi_derive::napi;

use crate::error::{IntoJs, Result};
use crate::socket::NativeSocket;
use napi::bindgen_prelude::External;

/// TCP_INFO for JS: times in µs; `null` where the platform or kernel gives no value.
/// Byte counts are doubles: exact up to 2^53 bytes.
#[napi(object)]
pub struct JsTcpInfo {
    pub state: String,
    pub retransmits: Option<u32>,
    pub rto: Option<u32>,
    pub rtt: Option<u32>,
    pub rttvar: Option<u32>,
    pub min_rtt: Option<u32>,
    pub snd_mss: Option<u32>,
    pub rcv_mss: Option<u32>,
    pub pmtu: Option<u32>,
    pub snd_cwnd: Option<u32>,
    pub snd_ssthresh: Option<u32>,
    pub unacked: Option<u32>,
    pub lost: Option<u32>,
    pub retrans: Option<u32>,
    pub total_retrans: Option<u32>,
    pub bytes_acked: Option<f64>,
    pub bytes_received: Option<f64>,
    pub bytes_sent: Option<f64>,
    pub bytes_retrans: Option<f64>,
    pub segs_out: Option<f64>,
    pub segs_in: Option<f64>,
    pub notsent_bytes: Option<u32>,
}

impl From<TcpInfo> for JsTcpInfo {
    fn from(t: TcpInfo) -> JsTcpInfo {
        let f = |v: Option<u64>| v.map(|n| n as f64);
        JsTcpInfo {
            state: t.state.to_owned(),
            retransmits: t.retransmits,
            rto: t.rto,
            rtt: t.rtt,
            rttvar: t.rttvar,
            min_rtt: t.min_rtt,
            snd_mss: t.snd_mss,
            rcv_mss: t.rcv_mss,
            pmtu: t.pmtu,
            snd_cwnd: t.snd_cwnd,
            snd_ssthresh: t.snd_ssthresh,
            unacked: t.unacked,
            lost: t.lost,
            retrans: t.retrans,
            total_retrans: t.total_retrans,
            bytes_acked: f(t.bytes_acked),
            bytes_received: f(t.bytes_received),
            bytes_sent: f(t.bytes_sent),
            bytes_retrans: f(t.bytes_retrans),
            segs_out: f(t.segs_out),
            segs_in: f(t.segs_in),
            notsent_bytes: t.notsent_bytes,
        }
    }
}

#[napi(catch_unwind)]
pub fn sock_tcp_info(h: &External<NativeSocket>) -> Result<JsTcpInfo> {
    h.get()?.tcp_info().js().map(JsTcpInfo::from)
}
