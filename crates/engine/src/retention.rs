//! Delivery retention (`ZS_DELIVERY_RETENTION`): a webhook delivery that has settled —
//! delivered, or failed after its whole retry schedule — is deleted with its attempt log
//! once its last change is older than the retention. Pending deliveries are never deleted,
//! however old. Without this the delivery log (every message body, every attempt) grows
//! with every transition for as long as the service runs.

use crate::{Engine, EngineError};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use zs_store::deliveries;

/// Deliveries deleted per transaction: the writer is never held long, and the commands
/// waiting for it go between two batches.
const BATCH: i64 = 1_000;

/// How often the housekeeping looks: a quarter of the retention, between 1 s and 10 min.
pub fn retention_interval(retention: SignedDuration) -> std::time::Duration {
    let quarter = (retention / 4).unsigned_abs();
    quarter.clamp(
        std::time::Duration::from_secs(1),
        std::time::Duration::from_secs(600),
    )
}

impl Engine {
    /// Deletes every settled delivery whose last change is before `settled_before`, with
    /// its attempts, in batches of one transaction each; returns how many.
    pub async fn prune_deliveries(&self, settled_before: Timestamp) -> Result<u64, EngineError> {
        let mut total = 0;
        loop {
            let mut tx = self.store.begin().await?;
            let ids = deliveries::prune_settled(&mut tx, settled_before, BATCH).await?;
            tx.commit().await?;
            total += ids.len() as u64;
            if (ids.len() as i64) < BATCH {
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }

    /// Deletes the deliveries settled longer than `retention` ago, at once and then every
    /// [`retention_interval`], until `shutdown`. `None` keeps them for ever.
    pub async fn retention_loop(
        self: Arc<Self>,
        retention: Option<SignedDuration>,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        let Some(retention) = retention else {
            return;
        };
        loop {
            let before = self.clock.now() - retention;
            match self.prune_deliveries(before).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(deliveries = n, settled_before = %before, "deleted settled webhook deliveries past their retention")
                }
                Err(e) => {
                    tracing::warn!(error = %e, "deleting settled webhook deliveries failed; trying again later")
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(retention_interval(retention)) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_is_a_quarter_of_the_retention_within_bounds() {
        let secs = |s: u64| std::time::Duration::from_secs(s);
        assert_eq!(retention_interval(SignedDuration::from_secs(2)), secs(1));
        assert_eq!(retention_interval(SignedDuration::from_secs(20)), secs(5));
        assert_eq!(retention_interval(SignedDuration::from_hours(1)), secs(600));
        // `serve`'s default, P30D.
        assert_eq!(
            retention_interval(SignedDuration::from_hours(24 * 30)),
            secs(600)
        );
    }
}
