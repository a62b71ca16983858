//! Webhook signing secrets sealed at rest.
//!
//! The database never holds a `whsec_` secret: it holds `v1:<base64(nonce ‖ ciphertext)>`,
//! XChaCha20-Poly1305 under a 32-byte key kept outside the database (`ZS_SECRET_KEY` or the
//! data directory's key file), with a fresh random 24-byte nonce per value and the webhook
//! id as associated data (a sealed secret copied onto another endpoint does not open).
//!
//! A key check value (a constant sealed under the key) lets a process find out at start
//! that it was given the wrong key, before it signs anything.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};

use crate::WebhookSecret;

/// Version tag of the stored form.
const VERSION: &str = "v1:";
/// Key size in bytes.
pub const KEY_LEN: usize = 32;
/// Nonce size in bytes (XChaCha20: large enough for random nonces).
const NONCE_LEN: usize = 24;
/// Associated data of the key check value (webhook ids are `ep_…`, so never this).
const CHECK_CONTEXT: &str = "zs-scheduler key check";
/// The plaintext of the key check value.
const CHECK_PLAINTEXT: &[u8] = b"zs-scheduler webhook secrets";

/// Why a sealed value did not open.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum SealError {
    /// Not `v1:` followed by base64 of a nonce and a ciphertext.
    #[error("not a sealed value (expected v1:<base64>)")]
    Malformed,
    /// The authentication failed: another key, another webhook id, or altered bytes.
    #[error("the sealed value does not open with this key")]
    WrongKey,
    /// It opened, but what it holds is not a webhook secret.
    #[error("the sealed value is not a webhook secret")]
    NotASecret,
}

/// Why a key setting was refused.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[error(
    "expected {KEY_LEN} bytes in standard base64 (44 characters, e.g. from `openssl rand -base64 32`)"
)]
pub struct BadKey;

/// The key sealing webhook secrets. `Debug` never prints it.
#[derive(Clone)]
pub struct SecretKey {
    key: [u8; KEY_LEN],
}

impl SecretKey {
    /// Parses the base64 (standard alphabet, padded) of exactly 32 bytes; surrounding
    /// whitespace (a key file's newline) is ignored.
    pub fn parse(text: &str) -> Result<Self, BadKey> {
        let bytes = STANDARD.decode(text.trim()).map_err(|_| BadKey)?;
        let key: [u8; KEY_LEN] = bytes.try_into().map_err(|_| BadKey)?;
        Ok(Self { key })
    }

    /// A fresh key from the OS-seeded CSPRNG.
    pub fn generate() -> Self {
        Self {
            key: rand::random(),
        }
    }

    /// The textual form [`SecretKey::parse`] reads.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.key)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.key.into())
    }

    /// Seals `plaintext` bound to `context`: `v1:<base64(nonce ‖ ciphertext+tag)>`.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> String {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let sealed = self
            .cipher()
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 seals any short message");
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        format!("{VERSION}{}", STANDARD.encode(out))
    }

    /// Opens what [`SecretKey::seal`] made with the same key and `context`.
    pub fn open(&self, context: &str, stored: &str) -> Result<Vec<u8>, SealError> {
        let encoded = stored.strip_prefix(VERSION).ok_or(SealError::Malformed)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| SealError::Malformed)?;
        if bytes.len() <= NONCE_LEN {
            return Err(SealError::Malformed);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().expect("split at the nonce length");
        self.cipher()
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SealError::WrongKey)
    }

    /// The stored form of webhook `webhook_id`'s signing secret.
    pub fn seal_secret(&self, webhook_id: &str, secret: &WebhookSecret) -> String {
        self.seal(webhook_id, secret.as_str().as_bytes())
    }

    /// Webhook `webhook_id`'s signing secret from its stored form.
    pub fn open_secret(&self, webhook_id: &str, stored: &str) -> Result<WebhookSecret, SealError> {
        let text = self.open(webhook_id, stored)?;
        let text = String::from_utf8(text).map_err(|_| SealError::NotASecret)?;
        WebhookSecret::parse(&text).map_err(|_| SealError::NotASecret)
    }

    /// A fresh key check value: kept next to the sealed secrets, it tells a later start
    /// whether it has the key they were sealed with.
    pub fn check_value(&self) -> String {
        self.seal(CHECK_CONTEXT, CHECK_PLAINTEXT)
    }

    /// Whether `check` was made by [`SecretKey::check_value`] with this key.
    pub fn matches(&self, check: &str) -> bool {
        self.open(CHECK_CONTEXT, check)
            .is_ok_and(|plain| plain == CHECK_PLAINTEXT)
    }
}

/// Whether a stored secret is sealed (and not the plaintext `whsec_` of an older version).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(VERSION)
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_its_webhook() {
        let key = SecretKey::generate();
        let secret = WebhookSecret::generate();
        let stored = key.seal_secret("ep_1", &secret);
        assert!(is_sealed(&stored));
        assert!(!stored.contains(&secret.as_str()[6..]));
        assert_eq!(
            key.open_secret("ep_1", &stored).unwrap().as_str(),
            secret.as_str()
        );
        assert_eq!(
            key.open_secret("ep_2", &stored).unwrap_err(),
            SealError::WrongKey
        );
        assert_eq!(
            SecretKey::generate()
                .open_secret("ep_1", &stored)
                .unwrap_err(),
            SealError::WrongKey
        );
    }

    #[test]
    fn each_sealing_uses_a_fresh_nonce() {
        let key = SecretKey::generate();
        let secret = WebhookSecret::generate();
        assert_ne!(
            key.seal_secret("ep_1", &secret),
            key.seal_secret("ep_1", &secret)
        );
    }

    #[test]
    fn altered_or_malformed_values_do_not_open() {
        let key = SecretKey::generate();
        let stored = key.seal_secret("ep_1", &WebhookSecret::generate());
        let mut bytes = STANDARD.decode(&stored[3..]).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let altered = format!("v1:{}", STANDARD.encode(&bytes));
        assert_eq!(key.open("ep_1", &altered).unwrap_err(), SealError::WrongKey);
        for bad in ["", "whsec_abc", "v1:", "v1:!!", "v2:AAAA", "v1:AAAA"] {
            assert_eq!(key.open("ep_1", bad).unwrap_err(), SealError::Malformed);
        }
        let not_a_secret = key.seal("ep_1", b"hello");
        assert_eq!(
            key.open_secret("ep_1", &not_a_secret).unwrap_err(),
            SealError::NotASecret
        );
    }

    #[test]
    fn the_check_value_tells_the_right_key_from_a_wrong_one() {
        let key = SecretKey::generate();
        let check = key.check_value();
        assert!(key.matches(&check));
        assert!(!SecretKey::generate().matches(&check));
        assert!(!key.matches("v1:AAAA"));
        // A secret sealed for a webhook is not a check value.
        assert!(!key.matches(&key.seal_secret("ep_1", &WebhookSecret::generate())));
    }

    #[test]
    fn keys_parse_from_32_bytes_of_base64_only() {
        let key = SecretKey::generate();
        let text = key.to_base64();
        assert_eq!(text.len(), 44);
        let again = SecretKey::parse(&format!("{text}\n")).unwrap();
        let stored = key.seal("x", b"y");
        assert_eq!(again.open("x", &stored).unwrap(), b"y");
        let short = STANDARD.encode([1u8; 31]);
        let long = STANDARD.encode([1u8; 33]);
        for bad in ["", "not base64!", short.as_str(), long.as_str()] {
            assert_eq!(SecretKey::parse(bad).unwrap_err(), BadKey);
        }
        assert_eq!(format!("{key:?}"), "SecretKey(***)");
    }
}
