//! The first contact with Redis at start-up: one fresh connection and a `PING`, within a
//! bound, with the reason in plain words when it fails.

use std::time::Duration;

/// Whether Redis at `redis_url` answers `PING` on one fresh connection within `within`;
/// `Err` says why not in plain words (`connection refused`). For start-up, where the crate's
/// own connection would keep retrying in silence.
pub async fn reachable(redis_url: &str, within: Duration) -> Result<(), String> {
    let client = redis::Client::open(redis_url).map_err(|e| {
        format!(
            "not a Redis URL ({}); expected redis://[[user]:password@]host[:port][/db]",
            plain(&e)
        )
    })?;
    let answer = tokio::time::timeout(within, async {
        let mut conn = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING").query_async::<String>(&mut conn).await
    })
    .await;
    match answer {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(plain(&e)),
        Err(_) => Err(format!("no answer within {} s", within.as_secs())),
    }
}

/// A Redis error in plain words: an I/O error without its `(os error N)`, or the crate's
/// description and the server's detail without the crate's error-kind name (its `Display`
/// appends ` - AuthenticationFailed` and the like).
fn plain(e: &redis::RedisError) -> String {
    let mut text = e.to_string();
    if let Some(at) = text.find(" (os error") {
        text.truncate(at);
    }
    if !e.is_io_error()
        && let Some(at) = text.find(" - ")
    {
        text.truncate(at);
        if let Some(detail) = e.detail() {
            text = format!("{text}: {detail}");
        }
    }
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::reachable;
    use std::time::Duration;

    #[tokio::test]
    async fn says_why_redis_cannot_be_reached() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let closed = format!("redis://127.0.0.1:{port}");
        let within = Duration::from_secs(2);
        assert_eq!(
            reachable(&closed, within).await,
            Err("connection refused".to_owned())
        );
        let err = reachable("127.0.0.1:6379", within).await.unwrap_err();
        assert!(err.starts_with("not a Redis URL"), "{err}");
        // The test machine's Redis (no password) refuses a login with one.
        let err = reachable("redis://:pw@127.0.0.1:6379", within)
            .await
            .unwrap_err();
        assert!(
            !err.contains("AuthenticationFailed") && !err.contains(" - "),
            "{err}"
        );
        assert_eq!(reachable("redis://127.0.0.1:6379", within).await, Ok(()));
    }
}
