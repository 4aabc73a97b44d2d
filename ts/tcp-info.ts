// TCP_INFO as tcpInfo() returns it.

/** A TCP state, named as Linux names it (macOS states are mapped to the same names). */
export type TcpState =
  | 'ESTABLISHED'
  | 'SYN_SENT'
  | 'SYN_RECV'
  | 'FIN_WAIT1'
  | 'FIN_WAIT2'
  | 'TIME_WAIT'
  | 'CLOSE'
  | 'CLOSE_WAIT'
  | 'LAST_ACK'
  | 'LISTEN'
  | 'CLOSING'
  | 'UNKNOWN'

/**
 * A TCP connection's state and counters (Linux `struct tcp_info`, macOS
 * `tcp_connection_info`). Times are microseconds. A field is `null` where the platform or
 * the running kernel does not report it (Linux added fields over the years: `bytesAcked` and
 * `bytesReceived` in 4.1, `segsOut`/`segsIn` in 4.2, `minRtt`/`notsentBytes` in 4.6,
 * `bytesSent`/`bytesRetrans` in 4.19; macOS has no `unacked`, `lost`, `pmtu`, ...).
 */
export interface TcpInfo {
  /** The connection's state: `'ESTABLISHED'`, `'LISTEN'`, ... (Linux's `tcpi_state`). */
  state: TcpState
  /** Retransmits of the current unacknowledged segment. */
  retransmits: number | null
  /** Retransmission timeout, µs. */
  rto: number | null
  /** Smoothed round-trip time, µs. */
  rtt: number | null
  /** Round-trip time variance, µs. */
  rttvar: number | null
  /** Lowest round-trip time seen, µs. */
  minRtt: number | null
  /** Sending maximum segment size, bytes. */
  sndMss: number | null
  /** Receiving MSS estimate, bytes. */
  rcvMss: number | null
  /** Path MTU, bytes. */
  pmtu: number | null
  /** Congestion window: segments on Linux, bytes on macOS. */
  sndCwnd: number | null
  /** Slow-start threshold. */
  sndSsthresh: number | null
  /** Segments sent and not yet acknowledged. */
  unacked: number | null
  /** Segments considered lost. */
  lost: number | null
  /** Retransmitted segments in flight. */
  retrans: number | null
  /** Retransmitted segments over the connection's life. */
  totalRetrans: number | null
  /** Bytes the peer acknowledged. */
  bytesAcked: number | null
  /** Bytes received. */
  bytesReceived: number | null
  /** Bytes sent, retransmissions included. */
  bytesSent: number | null
  /** Bytes retransmitted. */
  bytesRetrans: number | null
  /** Segments sent (macOS: packets). */
  segsOut: number | null
  /** Segments received (macOS: packets). */
  segsIn: number | null
  /** Bytes written and not yet sent. */
  notsentBytes: number | null
}

/** Every field `null`: what the native object lacks (a field the platform does not give) stays so. */
export const TCP_INFO_NULLS: Readonly<Omit<TcpInfo, 'state'>> = Object.freeze({
  retransmits: null,
  rto: null,
  rtt: null,
  rttvar: null,
  minRtt: null,
  sndMss: null,
  rcvMss: null,
  pmtu: null,
  sndCwnd: null,
  sndSsthresh: null,
  unacked: null,
  lost: null,
  retrans: null,
  totalRetrans: null,
  bytesAcked: null,
  bytesReceived: null,
  bytesSent: null,
  bytesRetrans: null,
  segsOut: null,
  segsIn: null,
  notsentBytes: null,
})
