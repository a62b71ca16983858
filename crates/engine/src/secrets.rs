//! Webhook signing secrets at rest: sealed under the engine's key (see
//! `zs_delivery::sealing`), checked against the database at start, sealed where an older
//! version left them in plaintext, rotated with a 24-hour overlap.

use crate::{Engine, EngineError};
use jiff::SignedDuration;
use zs_delivery::{SealError, WebhookSecret};
use zs_store::StoreError;
use zs_store::deliveries::{self, Endpoint};
use zs_store::secrets;

/// How long the previous secret of a rotated endpoint also signs.
pub const ROTATION_OVERLAP: SignedDuration = SignedDuration::from_hours(24);

/// Why the stored secrets cannot be used with this key.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// The database's secrets were sealed with another key.
    #[error(
        "the webhook secrets in this database were sealed with another key; start with the \
         key they were sealed with"
    )]
    WrongKey,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What [`Engine::prepare_secrets`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prepared {
    /// Whether this start stored the key check value (a new database, or one from before
    /// sealing).
    pub first_key: bool,
    /// Plaintext secrets sealed now (written by a version before sealing).
    pub sealed: usize,
}

/// A rotated endpoint and its new secret (shown once).
#[derive(Debug, Clone)]
pub struct Rotated {
    /// The endpoint after the rotation (secrets as stored).
    pub endpoint: Endpoint,
    /// The new `whsec_` secret.
    pub secret: WebhookSecret,
}

fn unopenable(id: &str, e: SealError) -> EngineError {
    EngineError::Store(StoreError::Corrupt(format!(
        "webhook {id}: its stored signing secret does not open with this key ({e})"
    )))
}

impl Engine {
    /// Checks the key against the database and seals what an older version stored in
    /// plaintext; run once at start, before anything is signed. Idempotent, and safe with
    /// several instances starting together on one PostgreSQL schema.
    pub async fn prepare_secrets(&self) -> Result<Prepared, PrepareError> {
        let mut tx = self.store.begin().await?;
        let first_key = match secrets::key_check(&mut tx).await? {
            Some(check) => {
                if !self.secret_key.matches(&check) {
                    return Err(PrepareError::WrongKey);
                }
                false
            }
            None => {
                secrets::put_key_check(&mut tx, &self.secret_key.check_value(), self.clock.now())
                    .await?;
                // Another instance may have stored its own first.
                let stored = secrets::key_check(&mut tx).await?.unwrap_or_default();
                if !self.secret_key.matches(&stored) {
                    return Err(PrepareError::WrongKey);
                }
                true
            }
        };
        let mut sealed = 0;
        for (id, plain) in secrets::unsealed(&mut tx).await? {
            // A value that is neither sealed nor a secret cannot be signed with; it is
            // sealed as it is, and sending to it fails loudly rather than unsigned.
            let stored = match WebhookSecret::parse(&plain) {
                Ok(secret) => self.secret_key.seal_secret(&id, &secret),
                Err(_) => self.secret_key.seal(&id, plain.as_bytes()),
            };
            if secrets::replace_secret(&mut tx, &id, &plain, &stored).await? {
                sealed += 1;
            }
        }
        tx.commit().await?;
        if sealed > 0 {
            self.invalidate_endpoints();
            // Fold the sealed pages into the database file now (SQLite), over the old ones.
            self.store.checkpoint().await?;
        }
        Ok(Prepared { first_key, sealed })
    }

    /// A fresh secret for endpoint `id`, and its stored (sealed) form.
    pub(crate) fn new_secret(&self, id: &str) -> (WebhookSecret, String) {
        let secret = WebhookSecret::generate();
        let stored = self.secret_key.seal_secret(id, &secret);
        (secret, stored)
    }

    /// The secrets that sign a delivery to `e` now: its secret, then its previous one while
    /// the rotation overlap lasts (by the engine's clock).
    pub fn signing_secrets(&self, e: &Endpoint) -> Result<Vec<WebhookSecret>, EngineError> {
        let mut out = vec![
            self.secret_key
                .open_secret(&e.id, &e.secret)
                .map_err(|err| unopenable(&e.id, err))?,
        ];
        let overlapping = match (&e.previous_secret, e.previous_until) {
            (Some(previous), Some(until)) if self.clock.now() < until => Some(previous),
            _ => None,
        };
        if let Some(previous) = overlapping {
            out.push(
                self.secret_key
                    .open_secret(&e.id, previous)
                    .map_err(|err| unopenable(&e.id, err))?,
            );
        }
        Ok(out)
    }

    /// Gives endpoint `id` a new secret; the current one becomes the previous secret and
    /// also signs for [`ROTATION_OVERLAP`] from now. Rotating again within the overlap keeps
    /// only the secret being replaced (the one before it stops signing at once), with a new
    /// overlap from now.
    pub async fn rotate_endpoint_secret(&self, id: &str) -> Result<Rotated, EngineError> {
        let (secret, stored) = self.new_secret(id);
        let until = self.clock.now() + ROTATION_OVERLAP;
        let mut tx = self.store.begin().await?;
        if !secrets::rotate(&mut tx, id, &stored, until).await? {
            return Err(EngineError::NotFound(format!("webhook {id}")));
        }
        let endpoint = deliveries::endpoint(&mut tx, id)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("webhook {id}")))?;
        tx.commit().await?;
        self.invalidate_endpoints();
        Ok(Rotated { endpoint, secret })
    }
}
