// Constants: this platform's values, equal to what Python's socket/select modules say here.
import { spawnSync } from 'node:child_process'
import { constants as osConstants } from 'node:os'
import { describe, expect, it } from 'vitest'
import * as api from '../ts/index.js'

/** Every exported constant: a name in capitals (but `AF_DECnet`) whose value is a number, or
 * undefined on platforms without it. Classes, CMSG_LEN and CMSG_SPACE are functions. */
const exported = Object.entries(api).filter(
  ([name, value]) => /^[A-Z][A-Za-z0-9_]+$/.test(name) && typeof value !== 'function',
) as [string, number | undefined][]

const values: Record<string, number | undefined> = Object.fromEntries(exported)

/** A list of names written as words, one group per line. */
const names = (words: string): string[] => words.trim().split(/\s+/)

/** Python's socket module re-exports a few errno numbers; we keep them in `errno` only. */
const ERRNO =
  "errno numbers: in `errno` (Node's os.constants.errno; Winsock's on Windows), checked against Python's below"

/** The one group whose names some of our builds (glibc's) do export. */
const GLIBC_ONLY = 'libc crate has it for glibc only: exported there, undefined in a musl build'

/**
 * Python's integer constants that we do not export, by reason: every other one must be exported
 * with Python's value. Drawn up on Linux against the libc crate in Cargo.lock (0.2.191) and
 * Python 3.11, plus the Linux names of later Pythons and of builds with BlueZ or linux/rds.h
 * headers (from CPython's Modules/socketmodule.c), so that it holds with CI's Pythons too. When
 * the libc crate gains a name, it moves from here to crates/node/src/constants.rs.
 */
const NOT_EXPORTED = {
  [ERRNO]: names('EAGAIN EBADF EWOULDBLOCK'),
  'libc crate has no such constant (a number in the C headers, or one Python hard-codes)': names(`
    AF_QIPCRTR ALG_OP_SIGN ALG_OP_VERIFY ALG_SET_PUBKEY EAI_ADDRFAMILY
    ETHERTYPE_ARP ETHERTYPE_IP ETHERTYPE_IPV6 ETHERTYPE_VLAN
    INADDR_ALLHOSTS_GROUP INADDR_MAX_LOCAL_GROUP INADDR_UNSPEC_GROUP
    IPPORT_RESERVED IPPORT_USERRESERVED IPV6_RTHDR_TYPE_0 IP_MAX_MEMBERSHIPS NI_MAXSERV
    PACKET_FASTROUTE POLLMSG TCP_TX_DELAY UDPLITE_RECV_CSCOV UDPLITE_SEND_CSCOV
  `),
  [GLIBC_ONLY]: names('SOL_RDS'),
  'CAN broadcast manager opcodes and flags (linux/can/bcm.h): libc crate lacks them': names(`
    CAN_BCM_TX_SETUP CAN_BCM_TX_DELETE CAN_BCM_TX_READ CAN_BCM_TX_SEND CAN_BCM_RX_SETUP
    CAN_BCM_RX_DELETE CAN_BCM_RX_READ CAN_BCM_TX_STATUS CAN_BCM_TX_EXPIRED CAN_BCM_RX_STATUS
    CAN_BCM_RX_TIMEOUT CAN_BCM_RX_CHANGED CAN_BCM_SETTIMER CAN_BCM_STARTTIMER
    CAN_BCM_TX_COUNTEVT CAN_BCM_TX_ANNOUNCE CAN_BCM_TX_CP_CAN_ID CAN_BCM_RX_FILTER_ID
    CAN_BCM_RX_CHECK_DLC CAN_BCM_RX_NO_AUTOTIMER CAN_BCM_RX_ANNOUNCE_RESUME
    CAN_BCM_TX_RESET_MULTI_IDX CAN_BCM_RX_RTR_FRAME CAN_BCM_CAN_FD_FRAME
  `),
  'TIPC (linux/tipc.h): libc crate lacks its constants (it has AF_TIPC and SOL_TIPC)': names(`
    TIPC_ADDR_NAMESEQ TIPC_ADDR_NAME TIPC_ADDR_ID TIPC_ZONE_SCOPE TIPC_CLUSTER_SCOPE
    TIPC_NODE_SCOPE TIPC_IMPORTANCE TIPC_SRC_DROPPABLE TIPC_DEST_DROPPABLE TIPC_CONN_TIMEOUT
    TIPC_LOW_IMPORTANCE TIPC_MEDIUM_IMPORTANCE TIPC_HIGH_IMPORTANCE TIPC_CRITICAL_IMPORTANCE
    TIPC_SUB_PORTS TIPC_SUB_SERVICE TIPC_SUB_CANCEL TIPC_WAIT_FOREVER TIPC_PUBLISHED
    TIPC_WITHDRAWN TIPC_SUBSCR_TIMEOUT TIPC_CFG_SRV TIPC_TOP_SRV
  `),
  'VSOCK options and ioctl (linux/vm_sockets.h): libc crate lacks them (has VMADDR_*)': names(`
    SO_VM_SOCKETS_BUFFER_SIZE SO_VM_SOCKETS_BUFFER_MIN_SIZE SO_VM_SOCKETS_BUFFER_MAX_SIZE
    VM_SOCKETS_INVALID_VERSION IOCTL_VM_SOCKETS_GET_LOCAL_CID
  `),
  'Bluetooth (BlueZ headers): libc crate lacks all but AF_BLUETOOTH and SOL_BLUETOOTH': names(`
    BTPROTO_L2CAP BTPROTO_HCI BTPROTO_RFCOMM BTPROTO_SCO SOL_L2CAP SOL_HCI SOL_RFCOMM SOL_SCO
    BDADDR_BREDR BDADDR_LE_PUBLIC BDADDR_LE_RANDOM
    L2CAP_LM L2CAP_LM_MASTER L2CAP_LM_AUTH L2CAP_LM_ENCRYPT L2CAP_LM_TRUSTED L2CAP_LM_RELIABLE
    L2CAP_LM_SECURE HCI_DEV_NONE HCI_CHANNEL_RAW HCI_CHANNEL_USER HCI_CHANNEL_MONITOR
    HCI_CHANNEL_CONTROL HCI_CHANNEL_LOGGING HCI_FILTER HCI_DATA_DIR HCI_TIME_STAMP
    BT_SECURITY BT_SECURITY_SDP BT_SECURITY_LOW BT_SECURITY_MEDIUM BT_SECURITY_HIGH
    BT_SECURITY_FIPS BT_DEFER_SETUP BT_FLUSHABLE BT_FLUSHABLE_OFF BT_FLUSHABLE_ON BT_POWER
    BT_POWER_FORCE_ACTIVE_OFF BT_POWER_FORCE_ACTIVE_ON BT_CHANNEL_POLICY
    BT_CHANNEL_POLICY_BREDR_ONLY BT_CHANNEL_POLICY_BREDR_PREFERRED BT_VOICE
    BT_VOICE_TRANSPARENT BT_VOICE_CVSD_16BIT BT_VOICE_TRANSPARENT_16BIT BT_SNDMTU BT_RCVMTU
    BT_PHY BT_PHY_BR_1M_1SLOT BT_PHY_BR_1M_3SLOT BT_PHY_BR_1M_5SLOT BT_PHY_EDR_2M_1SLOT
    BT_PHY_EDR_2M_3SLOT BT_PHY_EDR_2M_5SLOT BT_PHY_EDR_3M_1SLOT BT_PHY_EDR_3M_3SLOT
    BT_PHY_EDR_3M_5SLOT BT_PHY_LE_1M_TX BT_PHY_LE_1M_RX BT_PHY_LE_2M_TX BT_PHY_LE_2M_RX
    BT_PHY_LE_CODED_TX BT_PHY_LE_CODED_RX BT_MODE BT_MODE_BASIC BT_MODE_ERTM BT_MODE_STREAMING
    BT_MODE_LE_FLOWCTL BT_MODE_EXT_FLOWCTL BT_PKT_STATUS BT_ISO_QOS BT_CODEC
  `),
  'RDS options and flags (linux/rds.h): libc crate lacks them (has AF_RDS and PF_RDS)': names(`
    RDS_CANCEL_SENT_TO RDS_GET_MR RDS_FREE_MR RDS_RECVERR RDS_CONG_MONITOR RDS_GET_MR_FOR_DEST
    RDS_CMSG_RDMA_ARGS RDS_CMSG_RDMA_DEST RDS_CMSG_RDMA_MAP RDS_CMSG_RDMA_STATUS
    RDS_CMSG_RDMA_UPDATE RDS_RDMA_READWRITE RDS_RDMA_FENCE RDS_RDMA_INVALIDATE
    RDS_RDMA_USE_ONCE RDS_RDMA_DONTWAIT RDS_RDMA_NOTIFY_ME RDS_RDMA_SILENT
  `),
}
const excluded = new Map(
  Object.entries(NOT_EXPORTED).flatMap(([reason, list]) => list.map((n) => [n, reason])),
)

/**
 * The platform the table above was drawn up for: macOS's and FreeBSD's Pythons have names of
 * their own, not sorted there yet, so elsewhere only the values are compared.
 */
const TABLE_PLATFORM = 'linux'

/** Every integer constant of Python's socket module (`has_ipv6` is a bool and `SocketKind` a
 * class: neither is one), every POLL* flag of select (we export no EPOLL*), errno's names. */
const PY_DUMP = `
import errno, json, select, socket
def ints(module, keep):
    return {n: int(v) for n, v in vars(module).items()
            if keep(n) and isinstance(v, int) and not isinstance(v, bool)}
out = ints(socket, lambda n: n[:1].isupper())
out.update(ints(select, lambda n: n.startswith("POLL")))
print(json.dumps({"constants": out, "errno": errno.errorcode}))
`

/** Python's integer constants and errno names here; undefined without python3. */
const python = (() => {
  const r = spawnSync('python3', ['-c', PY_DUMP], { encoding: 'utf8', timeout: 15_000 })
  if (r.status !== 0) return undefined
  return JSON.parse(r.stdout) as {
    constants: Record<string, number>
    errno: Record<string, string>
  }
})()
const py = python?.constants ?? {}

describe('constants', () => {
  it('exports the names every platform has as numbers', () => {
    const common = [
      'AF_UNSPEC',
      'AF_INET',
      'AF_INET6',
      'AF_UNIX',
      'SOCK_STREAM',
      'SOCK_DGRAM',
      'SOL_SOCKET',
      'SO_REUSEADDR',
      'SO_KEEPALIVE',
      'SO_RCVBUF',
      'SO_SNDBUF',
      'SO_LINGER',
      'SO_ERROR',
      'SO_TYPE',
      'TCP_NODELAY',
      'IPPROTO_TCP',
      'IPPROTO_UDP',
      'IPPROTO_IPV6',
      'IPV6_V6ONLY',
      'MSG_PEEK',
      'MSG_DONTWAIT',
      'MSG_WAITALL',
      'SHUT_RD',
      'SHUT_WR',
      'SHUT_RDWR',
      'SOMAXCONN',
      'POLLIN',
      'POLLOUT',
      'POLLERR',
      'POLLHUP',
      'POLLNVAL',
      'AI_PASSIVE',
      'AI_CANONNAME',
    ]
    for (const name of common) {
      expect(Number.isInteger(values[name]), name).toBe(true)
    }
  })

  it('exported values are integers or undefined (platform-only names)', () => {
    expect(exported.length).toBeGreaterThan(300)
    for (const [name, value] of exported) {
      if (value !== undefined) expect(Number.isInteger(value), name).toBe(true)
    }
  })

  it('distinct values within a group where C makes them distinct', () => {
    expect(new Set([api.AF_INET, api.AF_INET6, api.AF_UNIX, api.AF_UNSPEC]).size).toBe(4)
    expect(new Set([api.SOCK_STREAM, api.SOCK_DGRAM, api.SOCK_RAW, api.SOCK_RDM]).size).toBe(4)
    expect(new Set([api.SHUT_RD, api.SHUT_WR, api.SHUT_RDWR]).size).toBe(3)
    expect(
      new Set([api.POLLIN, api.POLLOUT, api.POLLERR, api.POLLHUP, api.POLLNVAL, api.POLLPRI]).size,
    ).toBe(6)
  })

  it.skipIf(python === undefined)("every name we share with Python has Python's value", () => {
    // The core vocabulary must be among those compared (Python has all of it on Unix).
    for (const name of [
      'AF_INET',
      'AF_INET6',
      'AF_UNIX',
      'SOCK_STREAM',
      'SOCK_DGRAM',
      'SOL_SOCKET',
      'SO_REUSEADDR',
      'SO_KEEPALIVE',
      'SO_RCVBUF',
      'SO_SNDBUF',
      'SO_LINGER',
      'SO_ERROR',
      'SO_TYPE',
      'TCP_NODELAY',
      'IPPROTO_TCP',
      'IPPROTO_IPV6',
      'IPV6_V6ONLY',
      'MSG_PEEK',
      'MSG_DONTWAIT',
      'MSG_WAITALL',
      'SHUT_RD',
      'SHUT_WR',
      'SHUT_RDWR',
      'SOMAXCONN',
      'POLLIN',
      'POLLOUT',
      'POLLERR',
      'POLLHUP',
      'POLLNVAL',
      'AI_PASSIVE',
      'AI_CANONNAME',
    ]) {
      expect(py[name], name).toBe(values[name])
    }
    const mismatches = Object.keys(py)
      .filter((name) => values[name] !== undefined && values[name] !== py[name])
      .map((name) => `${name}: ours ${values[name]}, python ${py[name]}`)
    expect(mismatches).toEqual([])
  })

  it.skipIf(python === undefined)('names Python defines here are defined by us too', () => {
    const missing = exported
      .filter(([name, value]) => value === undefined && name in py && !excluded.has(name))
      .map(([name]) => name)
    expect(missing).toEqual([])
  })

  it.skipIf(python === undefined || process.platform !== TABLE_PLATFORM)(
    'every integer constant of Python is exported, or not exported for a reason in the table',
    () => {
      const unexplained = Object.keys(py).filter(
        (name) => values[name] === undefined && !excluded.has(name),
      )
      expect(unexplained).toEqual([])
    },
  )

  it.skipIf(process.platform !== TABLE_PLATFORM)('the table lists no name we export', () => {
    const stale = [...excluded.keys()].filter(
      (name) => values[name] !== undefined && !NOT_EXPORTED[GLIBC_ONLY].includes(name),
    )
    expect(stale).toEqual([])
    // Each name in one group only.
    expect(excluded.size).toBe(Object.values(NOT_EXPORTED).flat().length)
  })
})

describe('errno', () => {
  it("is Node's os.constants.errno; on Windows the socket names carry Winsock's numbers", () => {
    if (process.platform === 'win32') {
      // A socket call fails with a Winsock code; Node's table there is the C runtime's
      // (ECONNREFUSED 107), which no socket call gives.
      expect(api.errno.EAGAIN).toBe(10035)
      expect(api.errno.EAGAIN).toBe(api.errno.WSAEWOULDBLOCK)
      expect(api.errno.ECONNREFUSED).toBe(10061)
      expect(api.errno.ECONNREFUSED).toBe(api.errno.WSAECONNREFUSED)
      expect(api.errno.EBADF).toBe(10009)
      expect(api.errno.ECONNREFUSED).not.toBe(osConstants.errno.ECONNREFUSED)
      // Names Winsock lacks keep the C runtime's numbers.
      expect(api.errno.EEXIST).toBe(osConstants.errno.EEXIST)
    } else {
      expect(api.errno.EAGAIN).toBe(osConstants.errno.EAGAIN)
      expect(api.errno.ECONNREFUSED).toBe(osConstants.errno.ECONNREFUSED)
      expect(api.errno.EBADF).toBe(osConstants.errno.EBADF)
    }
    expect(api.errno.EAGAIN).toBeGreaterThan(0)
  })

  it.skipIf(python === undefined)("numbers match Python's errno module", () => {
    const names = python?.errno ?? {}
    const byName = Object.fromEntries(Object.entries(names).map(([n, name]) => [name, Number(n)]))
    for (const name of ['EAGAIN', 'EBADF', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']) {
      expect(api.errno[name], name).toBe(byName[name])
    }
  })

  it.skipIf(python === undefined)("has the errno numbers Python's socket module re-exports", () => {
    for (const name of NOT_EXPORTED[ERRNO].filter((n) => n in py)) {
      expect(api.errno[name], name).toBe(py[name])
    }
  })
})
