//! Standard Webhooks signing (<https://www.standardwebhooks.com/>).
//!
//! The signature is `v1,<base64(HMAC-SHA256(secret, "{id}.{timestamp}.{body}"))>` and is sent
//! with the `webhook-id`, `webhook-timestamp` and `webhook-signature` headers.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::DeliveryError;

/// Prefix of the textual secret form.
const PREFIX: &str = "whsec_";
/// Smallest accepted secret, in decoded bytes.
const MIN_SECRET_LEN: usize = 24;
/// Largest accepted secret, in decoded bytes.
const MAX_SECRET_LEN: usize = 64;
/// Size of freshly generated secrets, in bytes.
const GENERATED_SECRET_LEN: usize = 32;

/// Header carrying the message id.
pub const HEADER_ID: &str = "webhook-id";
/// Header carrying the signing timestamp (Unix seconds).
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// Header carrying the signature(s).
pub const HEADER_SIGNATURE: &str = "webhook-signature";

/// A webhook signing secret: 24–64 raw bytes, written as `whsec_<base64>`.
///
/// `Debug` never prints the key material.
#[derive(Clone)]
pub struct WebhookSecret {
    key: Vec<u8>,
}

impl WebhookSecret {
    /// Parses `whsec_<standard base64>` whose decoded length is 24 to 64 bytes.
    pub fn parse(s: &str) -> Result<Self, DeliveryError> {
        let encoded = s.strip_prefix(PREFIX).ok_or(DeliveryError::InvalidSecret)?;
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| DeliveryError::InvalidSecret)?;
        if !(MIN_SECRET_LEN..=MAX_SECRET_LEN).contains(&key.len()) {
            return Err(DeliveryError::InvalidSecret);
        }
        Ok(Self { key })
    }

    /// Generates a fresh secret of 32 random bytes from the OS-seeded CSPRNG.
    pub fn generate() -> Self {
        let key: [u8; GENERATED_SECRET_LEN] = rand::random();
        Self { key: key.to_vec() }
    }

    /// The textual form `whsec_<base64>`, suitable for showing to the subscriber once.
    pub fn as_str(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(&self.key))
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(***)")
    }
}

/// Signs a message: returns `v1,<base64 HMAC-SHA256 of "{msg_id}.{timestamp_secs}.{body}">`.
pub fn sign(secret: &WebhookSecret, msg_id: &str, timestamp_secs: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&secret.key)
        .expect("HMAC-SHA256 accepts keys of any length");
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp_secs.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    format!("v1,{}", STANDARD.encode(tag))
}

/// The Standard Webhooks headers for one message.
///
/// Always `webhook-id` and `webhook-timestamp`; `webhook-signature` only when secrets are
/// given: one `v1,` signature per secret, space separated, in the order given (during a
/// rotation the new secret and the previous one, so receivers holding either verify).
pub fn signed_headers(
    secrets: &[WebhookSecret],
    msg_id: &str,
    timestamp_secs: i64,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    let mut headers = vec![
        (HEADER_ID, msg_id.to_owned()),
        (HEADER_TIMESTAMP, timestamp_secs.to_string()),
    ];
    if !secrets.is_empty() {
        let signatures: Vec<String> = secrets
            .iter()
            .map(|s| sign(s, msg_id, timestamp_secs, body))
            .collect();
        headers.push((HEADER_SIGNATURE, signatures.join(" ")));
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue};
    use standardwebhooks::Webhook;

    fn now() -> i64 {
        jiff::Timestamp::now().as_second()
    }

    fn to_header_map(headers: &[(&'static str, String)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn verify(secret: &WebhookSecret, body: &[u8], headers: &HeaderMap) -> bool {
        Webhook::new(&secret.as_str())
            .unwrap()
            .verify(body, headers)
            .is_ok()
    }

    #[test]
    fn parse_roundtrips_and_generate_is_valid() {
        let secret = WebhookSecret::generate();
        let text = secret.as_str();
        assert!(text.starts_with("whsec_"));
        let parsed = WebhookSecret::parse(&text).unwrap();
        assert_eq!(parsed.as_str(), text);
        assert_ne!(WebhookSecret::generate().as_str(), text);
    }

    #[test]
    fn parse_rejects_bad_secrets() {
        let short = format!("whsec_{}", STANDARD.encode([7u8; 23]));
        let long = format!("whsec_{}", STANDARD.encode([7u8; 65]));
        let no_prefix = STANDARD.encode([7u8; 32]);
        for bad in [
            "",
            "whsec_",
            "whsec_!!!notbase64!!!",
            &short,
            &long,
            &no_prefix,
        ] {
            assert_eq!(
                WebhookSecret::parse(bad).unwrap_err(),
                DeliveryError::InvalidSecret
            );
        }
        assert!(WebhookSecret::parse(&format!("whsec_{}", STANDARD.encode([7u8; 24]))).is_ok());
        assert!(WebhookSecret::parse(&format!("whsec_{}", STANDARD.encode([7u8; 64]))).is_ok());
    }

    #[test]
    fn debug_hides_the_secret() {
        let secret = WebhookSecret::generate();
        let shown = format!("{secret:?}");
        assert_eq!(shown, "WebhookSecret(***)");
        assert!(!shown.contains(&secret.as_str()[6..]));
    }

    #[test]
    fn sign_matches_the_reference_implementation() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let ours = sign(
            &secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            b"{\"test\": 2432232314}",
        );
        assert_eq!(ours, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        let oracle = Webhook::new(&secret.as_str()).unwrap();
        assert_eq!(
            ours,
            oracle
                .sign(
                    "msg_p5jXN8AQM9LWM0D4loKWxJek",
                    1614265330,
                    b"{\"test\": 2432232314}"
                )
                .unwrap()
        );
    }

    #[test]
    fn signed_headers_verify_with_standardwebhooks() {
        let secret = WebhookSecret::generate();
        let body = br#"{"type":"booking.created","data":{"id":"b_1"}}"#;
        let headers = signed_headers(std::slice::from_ref(&secret), "msg_1", now(), body);
        let names: Vec<_> = headers.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, [HEADER_ID, HEADER_TIMESTAMP, HEADER_SIGNATURE]);
        assert!(verify(&secret, body, &to_header_map(&headers)));
    }

    #[test]
    fn tampering_is_detected() {
        let secret = WebhookSecret::generate();
        let body = br#"{"a":1}"#;
        let ts = now();
        let good = to_header_map(&signed_headers(
            std::slice::from_ref(&secret),
            "msg_1",
            ts,
            body,
        ));
        assert!(!verify(&secret, br#"{"a":2}"#, &good), "body tampered");
        assert!(
            !verify(&WebhookSecret::generate(), body, &good),
            "other secret"
        );
        let mut other_id = good.clone();
        other_id.insert(HEADER_ID, HeaderValue::from_static("msg_2"));
        assert!(!verify(&secret, body, &other_id), "id tampered");
        let mut other_ts = good.clone();
        other_ts.insert(
            HEADER_TIMESTAMP,
            HeaderValue::from_str(&(ts - 1).to_string()).unwrap(),
        );
        assert!(!verify(&secret, body, &other_ts), "timestamp tampered");
        let old = to_header_map(&signed_headers(
            std::slice::from_ref(&secret),
            "msg_1",
            ts - 3600,
            body,
        ));
        assert!(!verify(&secret, body, &old), "stale timestamp");
    }

    #[test]
    fn two_secrets_give_two_signatures_each_verifying_alone() {
        let (new, old) = (WebhookSecret::generate(), WebhookSecret::generate());
        let body = br#"{"a":1}"#;
        let ts = now();
        let headers = signed_headers(&[new.clone(), old.clone()], "msg_1", ts, body);
        let signature = &headers[2].1;
        assert_eq!(
            signature,
            &format!(
                "{} {}",
                sign(&new, "msg_1", ts, body),
                sign(&old, "msg_1", ts, body)
            )
        );
        let map = to_header_map(&headers);
        assert!(verify(&new, body, &map), "the new secret verifies");
        assert!(verify(&old, body, &map), "the previous secret verifies");
        assert!(!verify(&WebhookSecret::generate(), body, &map));
    }

    #[test]
    fn unsigned_headers_have_no_signature() {
        let headers = signed_headers(&[], "msg_1", 42, b"{}");
        assert_eq!(
            headers,
            vec![
                (HEADER_ID, "msg_1".to_owned()),
                (HEADER_TIMESTAMP, "42".to_owned())
            ]
        );
    }
}
