// Address shapes per family, as Python has them.

/** AF_INET: `[host, port]`. `''` is INADDR_ANY, `'<broadcast>'` INADDR_BROADCAST. */
export type IPv4Address = [host: string, port: number]
/** AF_INET6 as returned: `[host, port, flowinfo, scopeId]`. */
export type IPv6Address = [host: string, port: number, flowinfo: number, scopeId: number]
/** AF_INET6 as accepted: flowinfo and scopeId default to 0. */
export type IPv6AddressInput = [host: string, port: number, flowinfo?: number, scopeId?: number]
/** AF_UNIX: a path; a leading `'\0'` is a Linux abstract name; `''` an unnamed socket. */
export type UnixAddress = string

/** What the calls that report an address return, by the socket's family. */
export type SocketAddress = IPv4Address | IPv6Address | UnixAddress
/** What `bind`, `connect`, `sendto` accept. */
export type AddressInput = IPv4Address | IPv6AddressInput | UnixAddress
/** Where `sendmany` sends: one address for every datagram, or one address per datagram. */
export type Destinations = AddressInput | readonly AddressInput[]

/** `[family, type, proto, canonname, address]`, one getaddrinfo result. */
export type AddrInfo = [
  family: number,
  type: number,
  proto: number,
  canonname: string,
  address: SocketAddress,
]

/** The native call's address arguments: host (or path), port, flowinfo, scopeId. */
export type AddressArgs = [host: string, port: number, flowinfo: number, scopeId: number]

/** For error messages: `host` and `port`, or the path. */
export function describe(args: AddressArgs, family: number, unix: number): [string, number?] {
  return family === unix ? [args[0]] : [args[0], args[1]]
}
