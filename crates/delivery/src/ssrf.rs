//! The SSRF guard: which addresses outbound deliveries may reach.
//!
//! Two layers: [`check_url`] validates the URL and any IP-literal host up front, and
//! [`GuardedResolver`] filters DNS answers so the connection goes to the very address that was
//! checked (no second lookup, hence no DNS-rebinding window).

use std::error::Error as StdError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipnet::{Ipv4Net, Ipv6Net};
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::DeliveryError;

/// IPv4 ranges that are never public unicast destinations.
const FORBIDDEN_V4: [Ipv4Net; 15] = [
    Ipv4Net::new_assert(Ipv4Addr::new(0, 0, 0, 0), 8), // "this network"
    Ipv4Net::new_assert(Ipv4Addr::new(10, 0, 0, 0), 8), // private
    Ipv4Net::new_assert(Ipv4Addr::new(100, 64, 0, 0), 10), // CGNAT
    Ipv4Net::new_assert(Ipv4Addr::new(127, 0, 0, 0), 8), // loopback
    Ipv4Net::new_assert(Ipv4Addr::new(169, 254, 0, 0), 16), // link-local, cloud metadata
    Ipv4Net::new_assert(Ipv4Addr::new(172, 16, 0, 0), 12), // private
    Ipv4Net::new_assert(Ipv4Addr::new(192, 0, 0, 0), 24), // IETF protocol assignments
    Ipv4Net::new_assert(Ipv4Addr::new(192, 0, 2, 0), 24), // TEST-NET-1
    Ipv4Net::new_assert(Ipv4Addr::new(192, 88, 99, 0), 24), // 6to4 relay anycast
    Ipv4Net::new_assert(Ipv4Addr::new(192, 168, 0, 0), 16), // private
    Ipv4Net::new_assert(Ipv4Addr::new(198, 18, 0, 0), 15), // benchmarking
    Ipv4Net::new_assert(Ipv4Addr::new(198, 51, 100, 0), 24), // TEST-NET-2
    Ipv4Net::new_assert(Ipv4Addr::new(203, 0, 113, 0), 24), // TEST-NET-3
    Ipv4Net::new_assert(Ipv4Addr::new(224, 0, 0, 0), 4), // multicast
    Ipv4Net::new_assert(Ipv4Addr::new(240, 0, 0, 0), 4), // reserved + broadcast
];

/// IPv6 ranges forbidden outright (embedded-IPv4 forms are handled separately).
const FORBIDDEN_V6: [Ipv6Net; 9] = [
    Ipv6Net::new_assert(Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0), 48), // local NAT64
    Ipv6Net::new_assert(Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64),     // discard-only
    Ipv6Net::new_assert(Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23),    // IETF, Teredo, bench
    Ipv6Net::new_assert(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32), // documentation
    Ipv6Net::new_assert(Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20),    // documentation
    Ipv6Net::new_assert(Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7),     // unique local
    Ipv6Net::new_assert(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10),    // link-local
    Ipv6Net::new_assert(Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10),    // site-local
    Ipv6Net::new_assert(Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8),     // multicast
];

/// NAT64 well-known prefix `64:ff9b::/96`: the last 32 bits are an IPv4 address.
const NAT64: Ipv6Net = Ipv6Net::new_assert(Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96);
/// IPv4-compatible (deprecated) `::/96`: the last 32 bits are an IPv4 address.
const V4_COMPATIBLE: Ipv6Net = Ipv6Net::new_assert(Ipv6Addr::UNSPECIFIED, 96);
/// 6to4 `2002::/16`: bits 16..48 are an IPv4 address.
const SIX_TO_FOUR: Ipv6Net = Ipv6Net::new_assert(Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16);

/// True when `ip` must not be contacted by outbound deliveries (non-public or special-purpose).
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_forbidden_v4(v4),
        IpAddr::V6(v6) => is_forbidden_v6(v6),
    }
}

fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    FORBIDDEN_V4.iter().any(|net| net.contains(&ip))
}

fn is_forbidden_v6(ip: Ipv6Addr) -> bool {
    if ip.is_unspecified() || ip.is_loopback() {
        return true;
    }
    if let Some(v4) = embedded_v4(ip) {
        return is_forbidden_v4(v4);
    }
    FORBIDDEN_V6.iter().any(|net| net.contains(&ip))
}

/// The IPv4 address carried by mapped, compatible, NAT64 or 6to4 IPv6 addresses.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let bits = ip.to_bits();
    if V4_COMPATIBLE.contains(&ip) || NAT64.contains(&ip) {
        return Some(Ipv4Addr::from_bits(bits as u32));
    }
    if SIX_TO_FOUR.contains(&ip) {
        return Some(Ipv4Addr::from_bits((bits >> 80) as u32));
    }
    None
}

/// Validates a delivery target URL.
///
/// Only `http`/`https` with a host and without userinfo are accepted. IP-literal hosts are
/// checked here (they bypass DNS); host names are checked at connect time by
/// [`GuardedResolver`]. Error messages never echo the URL (it may carry tokens).
pub fn check_url(url: &str, allow_private: bool) -> Result<Url, DeliveryError> {
    let parsed = Url::parse(url).map_err(|e| DeliveryError::InvalidUrl(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(DeliveryError::InvalidUrl(
            "scheme must be http or https".into(),
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(DeliveryError::InvalidUrl(
            "credentials in the URL are not allowed".into(),
        ));
    }
    let host = match parsed.host_str() {
        Some(h) if !h.is_empty() => h,
        _ => return Err(DeliveryError::InvalidUrl("a host is required".into())),
    };
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = literal.parse::<IpAddr>()
        && !allow_private
        && is_forbidden_ip(ip)
    {
        return Err(DeliveryError::ForbiddenTarget(format!(
            "{ip} is not a public address"
        )));
    }
    Ok(parsed)
}

/// How long [`check_target`] waits for DNS before giving the name the benefit of the doubt.
const CREATION_LOOKUP_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

/// [`check_url`], and for a host name a DNS lookup: a name whose every address is
/// forbidden (`localhost`, a name pointing at 127.0.0.1) is refused like its literal IP.
///
/// A name that does not resolve now (no DNS on this machine, a record not yet published)
/// is accepted: every delivery resolves again through [`GuardedResolver`].
pub async fn check_target(url: &str, allow_private: bool) -> Result<Url, DeliveryError> {
    let parsed = check_url(url, allow_private)?;
    let host = parsed.host_str().unwrap_or_default().to_owned();
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    if allow_private || literal.parse::<IpAddr>().is_ok() {
        return Ok(parsed);
    }
    let lookup = tokio::net::lookup_host((literal, 0));
    let addrs: Vec<IpAddr> = match tokio::time::timeout(CREATION_LOOKUP_WITHIN, lookup).await {
        Ok(Ok(found)) => found.map(|a| a.ip()).collect(),
        Ok(Err(_)) | Err(_) => return Ok(parsed),
    };
    if !addrs.is_empty() && addrs.iter().all(|ip| is_forbidden_ip(*ip)) {
        return Err(DeliveryError::ForbiddenTarget(format!(
            "{literal} resolves only to non-public addresses"
        )));
    }
    Ok(parsed)
}

/// DNS resolver for `reqwest` that drops forbidden addresses unless `allow_private` is set.
///
/// Resolution uses tokio's `lookup_host`; when every answer is forbidden the lookup fails with
/// [`DeliveryError::ForbiddenTarget`] (reachable through the error's source chain).
#[derive(Debug, Clone, Copy, Default)]
pub struct GuardedResolver {
    /// Permit private/loopback/special addresses (tests, on-premise deployments).
    pub allow_private: bool,
}

/// Boxed error as `reqwest`'s resolver interface expects it.
type BoxError = Box<dyn StdError + Send + Sync>;

impl GuardedResolver {
    /// Resolves `host` and applies the guard.
    ///
    /// Lookup failures stay `io::Error`s (transient, worth retrying); a host whose every
    /// address is forbidden yields [`DeliveryError::ForbiddenTarget`] (permanent).
    async fn lookup(self, host: String) -> Result<Addrs, BoxError> {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
        if self.allow_private || addrs.is_empty() {
            return Ok(Box::new(addrs.into_iter()));
        }
        let allowed: Vec<SocketAddr> = addrs
            .into_iter()
            .filter(|a| !is_forbidden_ip(a.ip()))
            .collect();
        if allowed.is_empty() {
            return Err(Box::new(DeliveryError::ForbiddenTarget(format!(
                "{host} resolves only to non-public addresses"
            ))));
        }
        Ok(Box::new(allowed.into_iter()))
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(self.lookup(name.as_str().to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORBIDDEN: &[&str] = &[
        "127.0.0.1",
        "127.255.255.254",
        "0.0.0.0",
        "0.1.2.3",
        "10.0.0.1",
        "10.255.255.255",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "169.254.0.1",
        "100.64.0.1",
        "100.127.255.255",
        "255.255.255.255",
        "224.0.0.1",
        "239.255.255.250",
        "192.0.2.10",
        "198.51.100.7",
        "203.0.113.99",
        "198.18.0.1",
        "198.19.255.255",
        "192.0.0.8",
        "240.0.0.1",
        "::1",
        "::",
        "fc00::1",
        "fd12:3456:789a::1",
        "fe80::1",
        "febf::1",
        "ff02::1",
        "2001:db8::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "::127.0.0.1",
        "64:ff9b::127.0.0.1",
        "64:ff9b::a9fe:a9fe",
        "64:ff9b:1::1",
        "2002:7f00:1::1",
        "2001::1",
        "100::1",
    ];

    const ALLOWED: &[&str] = &[
        "8.8.8.8",
        "1.1.1.1",
        "9.255.255.255",
        "11.0.0.1",
        "172.15.255.255",
        "172.32.0.1",
        "192.167.255.255",
        "192.169.0.1",
        "100.63.255.255",
        "100.128.0.1",
        "169.253.255.255",
        "198.17.255.255",
        "198.20.0.1",
        "223.255.255.255",
        "93.184.216.34",
        "2606:4700:4700::1111",
        "2a00:1450:4001:80b::200e",
        "2001:4860:4860::8888",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
        "fbff::1",
        "2400:cb00::1",
    ];

    #[test]
    fn forbidden_addresses() {
        for s in FORBIDDEN {
            let ip: IpAddr = s.parse().unwrap();
            assert!(is_forbidden_ip(ip), "{s} should be forbidden");
        }
    }

    #[test]
    fn allowed_addresses() {
        for s in ALLOWED {
            let ip: IpAddr = s.parse().unwrap();
            assert!(!is_forbidden_ip(ip), "{s} should be allowed");
        }
    }

    fn url_err(url: &str) -> DeliveryError {
        check_url(url, false).unwrap_err()
    }

    #[test]
    fn check_url_accepts_public_targets() {
        for url in [
            "https://example.com/hooks?token=abc",
            "http://example.com:8080/",
            "https://93.184.216.34/x",
            "https://[2606:4700:4700::1111]/x",
        ] {
            assert!(check_url(url, false).is_ok(), "{url}");
        }
    }

    #[test]
    fn check_url_rejects_bad_shapes() {
        for url in [
            "not a url",
            "ftp://example.com/",
            "file:///etc/passwd",
            "gopher://example.com/",
            "https://user:pw@example.com/",
            "https://user@example.com/",
            "http://:8080/",
            "https://",
        ] {
            assert!(
                matches!(url_err(url), DeliveryError::InvalidUrl(_)),
                "{url}"
            );
        }
    }

    #[test]
    fn check_url_rejects_forbidden_literals_unless_allowed() {
        for url in [
            "http://127.0.0.1:8080/",
            "http://127.1/",
            "http://2130706433/",
            "http://0x7f.0.0.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/",
            "http://[::ffff:10.0.0.1]/",
            "http://[fe80::1]/",
        ] {
            assert!(
                matches!(url_err(url), DeliveryError::ForbiddenTarget(_)),
                "{url}"
            );
            assert!(check_url(url, true).is_ok(), "{url} with allow_private");
        }
    }

    #[test]
    fn errors_do_not_echo_the_url() {
        let err = url_err("https://user:hunter2@example.com/").to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn a_refusal_names_the_setting_that_allows_it() {
        let err = url_err("http://127.0.0.1:9/x").to_string();
        assert!(err.contains("ZS_ALLOW_PRIVATE_WEBHOOKS=true"), "{err}");
        assert!(err.contains("--allow-private-webhooks"), "{err}");
    }

    #[tokio::test]
    async fn check_target_refuses_names_that_resolve_only_to_private_addresses() {
        for url in ["http://localhost:9/x", "http://LocalHost/x"] {
            let err = check_target(url, false).await.unwrap_err();
            assert!(matches!(err, DeliveryError::ForbiddenTarget(_)), "{url}");
            assert!(
                err.to_string().contains("ZS_ALLOW_PRIVATE_WEBHOOKS"),
                "{err}"
            );
            assert!(
                check_target(url, true).await.is_ok(),
                "{url} with allow_private"
            );
        }
        assert!(matches!(
            check_target("http://10.1.2.3/x", false).await,
            Err(DeliveryError::ForbiddenTarget(_))
        ));
    }

    #[tokio::test]
    async fn check_target_accepts_names_that_do_not_resolve_now() {
        // `.invalid` never resolves (RFC 6761): delivery will look it up again.
        let url = "https://hooks.zs-scheduler.invalid/x";
        assert!(check_target(url, false).await.is_ok());
    }

    #[tokio::test]
    async fn resolver_filters_localhost() {
        let guarded = GuardedResolver::default()
            .lookup("localhost".into())
            .await
            .err()
            .expect("localhost must be refused");
        let err = guarded
            .downcast_ref::<DeliveryError>()
            .expect("typed error");
        assert!(matches!(err, DeliveryError::ForbiddenTarget(_)));

        let open = GuardedResolver {
            allow_private: true,
        };
        let addrs: Vec<_> = open.lookup("localhost".into()).await.unwrap().collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty());
    }
}
