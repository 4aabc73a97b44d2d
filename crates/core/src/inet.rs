//! Python's `inet_pton` / `inet_ntop`: an IP address between its text and its
//! packed (network byte order) form, for building option values such as
//! `ip_mreq` or `in6_pktinfo`.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::sys::{AF_INET, AF_INET6};
use crate::Errno;

/// The packed form of `text` in `family`: 4 bytes for `AF_INET` (dotted quad
/// only), 16 for `AF_INET6`; `None` when `text` is not such an address.
///
/// # Errors
/// `EAFNOSUPPORT` for any other family.
pub fn inet_pton(family: i32, text: &str) -> Result<Option<Vec<u8>>, Errno> {
    Ok(match family {
        AF_INET => text.parse::<Ipv4Addr>().ok().map(|a| a.octets().to_vec()),
        AF_INET6 => text.parse::<Ipv6Addr>().ok().map(|a| a.octets().to_vec()),
        _ => return Err(Errno::EAFNOSUPPORT),
    })
}

/// The text of a packed address: `None` when `packed` is not 4 (`AF_INET`) or
/// 16 (`AF_INET6`) bytes long. IPv6 is written as RFC 5952 says (the longest
/// run of zero groups as `::`, lower-case hex, IPv4-mapped as `::ffff:a.b.c.d`,
/// IPv4-compatible as `::a.b.c.d`).
///
/// # Errors
/// `EAFNOSUPPORT` for any other family.
pub fn inet_ntop(family: i32, packed: &[u8]) -> Result<Option<String>, Errno> {
    Ok(match family {
        AF_INET => <[u8; 4]>::try_from(packed)
            .ok()
            .map(|b| Ipv4Addr::from(b).to_string()),
        AF_INET6 => <[u8; 16]>::try_from(packed).ok().map(|b| {
            if b[..12] == [0; 12] && (b[12] | b[13]) != 0 {
                // IPv4-compatible: written `::a.b.c.d`, as the libc inet_ntop of Linux and
                // the BSDs (and so Python) write it.
                format!("::{}", Ipv4Addr::new(b[12], b[13], b[14], b[15]))
            } else {
                Ipv6Addr::from(b).to_string()
            }
        }),
        _ => return Err(Errno::EAFNOSUPPORT),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::{AF_INET, AF_INET6, AF_UNIX};

    #[test]
    fn round_trips_and_refusals() {
        let v4 = inet_pton(AF_INET, "192.0.2.1").unwrap().unwrap();
        assert_eq!(v4, [192, 0, 2, 1]);
        assert_eq!(inet_ntop(AF_INET, &v4).unwrap().unwrap(), "192.0.2.1");
        let v6 = inet_pton(AF_INET6, "2001:db8::1").unwrap().unwrap();
        assert_eq!(v6.len(), 16);
        assert_eq!(inet_ntop(AF_INET6, &v6).unwrap().unwrap(), "2001:db8::1");
        for text in ["::1.2.3.4", "::ffff:1.2.3.4", "::1", "::", "::0.0.1.2"] {
            let packed = inet_pton(AF_INET6, text).unwrap().unwrap();
            let back = inet_ntop(AF_INET6, &packed).unwrap().unwrap();
            assert_eq!(back, if text == "::0.0.1.2" { "::102" } else { text });
        }
        for bad in [
            "",
            "1.2.3",
            "1.2.3.256",
            "01.2.3.4",
            "1.2.3.4 ",
            "::1",
            "a\0b",
        ] {
            assert_eq!(inet_pton(AF_INET, bad).unwrap(), None, "{bad:?}");
        }
        for bad in ["", "1::2::3", "12345::", "::g", "1.2.3.4"] {
            assert_eq!(inet_pton(AF_INET6, bad).unwrap(), None, "{bad:?}");
        }
        assert_eq!(inet_ntop(AF_INET, &[1, 2, 3]).unwrap(), None);
        assert_eq!(inet_pton(AF_UNIX, "x"), Err(Errno::EAFNOSUPPORT));
        assert_eq!(inet_ntop(12345, &[0; 4]), Err(Errno::EAFNOSUPPORT));
    }
}
