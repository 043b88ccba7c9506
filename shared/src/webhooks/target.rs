//! Where a webhook may be sent: SSRF protection. Only `https` URLs without credentials;
//! the host is resolved and every address it resolves to must be public (no private,
//! loopback, link-local, shared, multicast, documentation or cloud metadata range); the
//! request then connects to the address checked, not to a second lookup, so a DNS
//! answer that changes in between (rebinding) cannot redirect it.
//!
//! In development (`CRM_WEBHOOKS_ALLOW_LOOPBACK=true`) plain `http` to loopback is also
//! allowed, so a receiver on the same machine can be tried.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::Url;

/// Why a target is refused, in words for the `url` field of a 422.
pub type Refusal = String;

/// A target URL that passed the static checks (scheme, credentials, host, length).
#[derive(Clone, Debug)]
pub struct Target {
    pub url: Url,
    pub host: String,
    pub port: u16,
}

pub const MAX_URL_LEN: usize = 2048;
const LOOKUP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// The static checks of `text` as a webhook target.
pub fn parse(text: &str, allow_loopback: bool) -> Result<Target, Refusal> {
    if text.len() > MAX_URL_LEN {
        return Err(format!("must be at most {MAX_URL_LEN} characters"));
    }
    let url = Url::parse(text).map_err(|_| "must be an absolute https URL".to_owned())?;
    match url.scheme() {
        "https" => {}
        "http" if allow_loopback => {}
        _ => return Err("must be an https URL".into()),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password".into());
    }
    if url.fragment().is_some() {
        return Err("must not have a fragment".into());
    }
    let host = match url.host() {
        Some(url::Host::Domain(d)) => d.to_ascii_lowercase(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        None => return Err("must name a host".into()),
    };
    let port = url
        .port_or_known_default()
        .ok_or_else(|| "must have a port".to_owned())?;
    // Literal addresses are checked now; names after they are resolved.
    if let Ok(ip) = host.parse::<IpAddr>() {
        check_address(ip, url.scheme(), allow_loopback)?;
    } else if url.scheme() == "http" && !is_loopback_name(&host) {
        return Err(
            "must be an https URL (plain http is only for this machine, in development)".into(),
        );
    }
    Ok(Target { url, host, port })
}

fn is_loopback_name(host: &str) -> bool {
    host == "localhost" || host.ends_with(".localhost")
}

/// Resolves the target's host and checks every address; returns the one to connect to.
pub async fn resolve(target: &Target, allow_loopback: bool) -> Result<SocketAddr, Refusal> {
    let scheme = target.url.scheme().to_owned();
    if let Ok(ip) = target.host.parse::<IpAddr>() {
        check_address(ip, &scheme, allow_loopback)?;
        return Ok(SocketAddr::new(ip, target.port));
    }
    let lookup = tokio::net::lookup_host((target.host.as_str(), target.port));
    let found: Vec<SocketAddr> = tokio::time::timeout(LOOKUP_TIMEOUT, lookup)
        .await
        .map_err(|_| format!("host `{}` did not resolve in time", target.host))?
        .map_err(|_| format!("host `{}` does not resolve", target.host))?
        .collect();
    let first = *found
        .first()
        .ok_or_else(|| format!("host `{}` does not resolve", target.host))?;
    for address in &found {
        check_address(address.ip(), &scheme, allow_loopback)?;
    }
    Ok(first)
}

/// Refuses addresses a webhook must never reach.
pub fn check_address(ip: IpAddr, scheme: &str, allow_loopback: bool) -> Result<(), Refusal> {
    let ip = canonical(ip);
    if ip.is_loopback() {
        return if allow_loopback {
            Ok(())
        } else {
            Err(format!("resolves to {ip}, a loopback address"))
        };
    }
    if scheme != "https" {
        return Err(
            "must be an https URL (plain http is only for this machine, in development)".into(),
        );
    }
    if is_forbidden(ip) {
        return Err(format!(
            "resolves to {ip}, a private, link-local or reserved address"
        ));
    }
    Ok(())
}

/// An IPv4 address carried in IPv6 as itself, so it is judged by the IPv4 rules: mapped
/// (`::ffff:0:0/96`), translated (`::ffff:0:0:0/96`, RFC 2765) and NAT64's well-known
/// prefix (`64:ff9b::/96`, RFC 6052). Other prefixes that can carry IPv4 at positions an
/// operator chooses (`64:ff9b:1::/48`, the rest of `64:ff9b::/32`, 6to4, Teredo, the
/// deprecated IPv4-compatible form) are refused whole by [`forbidden_v6`].
fn canonical(ip: IpAddr) -> IpAddr {
    let IpAddr::V6(v6) = ip else {
        return ip;
    };
    if let Some(v4) = v6.to_ipv4_mapped() {
        return IpAddr::V4(v4);
    }
    let s = v6.segments();
    let embedded = || {
        let [.., a, b] = s;
        IpAddr::V4(Ipv4Addr::from((u32::from(a) << 16) | u32::from(b)))
    };
    match s {
        // IPv4-translated.
        [0, 0, 0, 0, 0xffff, 0, _, _] => embedded(),
        // NAT64, well-known prefix.
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => embedded(),
        _ => ip,
    }
}

fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], bits: u32) -> bool {
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(net)) & mask)
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    const NETS: &[([u8; 4], u32)] = &[
        ([0, 0, 0, 0], 8),       // "this" network
        ([10, 0, 0, 0], 8),      // private
        ([100, 64, 0, 0], 10),   // carrier-grade NAT
        ([127, 0, 0, 0], 8),     // loopback
        ([169, 254, 0, 0], 16),  // link-local, cloud metadata (169.254.169.254)
        ([172, 16, 0, 0], 12),   // private
        ([192, 0, 0, 0], 24),    // IETF protocol assignments
        ([192, 0, 2, 0], 24),    // documentation
        ([192, 88, 99, 0], 24),  // 6to4 relay
        ([192, 168, 0, 0], 16),  // private
        ([198, 18, 0, 0], 15),   // benchmarking
        ([198, 51, 100, 0], 24), // documentation
        ([203, 0, 113, 0], 24),  // documentation
        ([224, 0, 0, 0], 4),     // multicast
        ([240, 0, 0, 0], 4),     // reserved, broadcast
    ];
    NETS.iter().any(|(net, bits)| in_v4(ip, *net, *bits))
}

fn forbidden_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    ip.is_unspecified()
        || ip.is_loopback()
        || (s[0] & 0xfe00) == 0xfc00 // unique local (and AWS's fd00:ec2::254 metadata)
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] & 0xff00) == 0xff00 // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x2001 && s[1] < 0x0200) // Teredo, benchmarking and other IETF ranges
        || s[0] == 0x2002 // 6to4 (may embed any IPv4 address)
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard-only
        || s[0..6] == [0, 0, 0, 0, 0, 0] // IPv4-compatible (deprecated)
        || s[0..4] == [0, 0, 0, 0] // the rest of ::/64: mapped/translated forms and reserved
        || (s[0] == 0x64 && s[1] == 0xff9b) // NAT64: local-use /48 and unassigned (RFC 8215)
        || (s[0] & 0xe000) != 0x2000 // outside 2000::/3, the only global unicast space
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> bool {
        parse(text, false).is_err()
    }

    #[test]
    fn only_https_without_credentials_passes_the_static_checks() {
        assert!(parse("https://hooks.example.com/crm?x=1", false).is_ok());
        assert!(refused("http://hooks.example.com/crm"));
        assert!(refused("ftp://hooks.example.com/"));
        assert!(refused("https://user:pw@hooks.example.com/"));
        assert!(refused("https://hooks.example.com/#frag"));
        assert!(refused("not a url"));
        assert!(refused(&format!("https://a.example/{}", "x".repeat(2100))));
    }

    #[test]
    fn private_loopback_link_local_and_metadata_addresses_are_refused() {
        for bad in [
            "https://127.0.0.1/",
            "https://10.1.2.3/",
            "https://172.20.0.1/",
            "https://192.168.1.1/",
            "https://169.254.169.254/latest/meta-data/",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
            "https://[::1]/",
            "https://[fe80::1]/",
            "https://[fd00:ec2::254]/",
            "https://[::ffff:10.0.0.1]/",
            "https://[::ffff:169.254.169.254]/",
            "https://[64:ff9b::a00:1]/",
            "https://224.0.0.1/",
            // IPv4 carried in IPv6 under every prefix that can carry it.
            "https://[64:ff9b::7f00:1]/",
            "https://[64:ff9b::169.254.169.254]/",
            "https://[64:ff9b:1::a00:1]/",
            "https://[64:ff9b:1:ffff::5db8:d70e]/",
            "https://[64:ff9b:1:5db8:d7:e00::]/",
            "https://[64:ff9b:0:1::5db8:d70e]/",
            "https://[::ffff:0:7f00:1]/",
            "https://[::ffff:0:a00:1]/",
            "https://[::ffff:7f00:1]/",
            "https://[::127.0.0.1]/",
            "https://[::5db8:d70e]/",
            "https://[0:0:0:0:1:ffff:5db8:d70e]/",
            "https://[2002:7f00:1::]/",
            "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
            // Not global unicast.
            "https://[100::1]/",
            "https://[4000::1]/",
            // IPv4 spelled in other radixes is still IPv4.
            "https://2130706433/",
            "https://0x7f.1/",
            "https://0177.0.0.1/",
            "https://10.1/",
        ] {
            assert!(refused(bad), "{bad}");
        }
        assert!(parse("https://93.184.215.14/", false).is_ok());
        assert!(parse("https://[2606:4700::1111]/", false).is_ok());
        // Public IPv4 carried in IPv6 is judged as that IPv4.
        assert!(parse("https://[64:ff9b::5db8:d70e]/", false).is_ok());
        assert!(parse("https://[::ffff:93.184.215.14]/", false).is_ok());
        assert!(parse("https://[::ffff:0:5db8:d70e]/", false).is_ok());
    }

    #[test]
    fn development_allows_plain_http_to_loopback_only() {
        assert!(parse("http://127.0.0.1:8080/hook", true).is_ok());
        assert!(parse("http://[::1]:8080/hook", true).is_ok());
        assert!(parse("http://localhost:8080/hook", true).is_ok());
        assert!(parse("http://10.0.0.1/hook", true).is_err());
        assert!(parse("http://hooks.example.com/", true).is_err());
        assert!(parse("https://10.0.0.1/hook", true).is_err());
    }
}
