//! The data directory is its owner's alone: the directory 0700, and the database (with the
//! webhook signing secrets), its write-ahead log and index, the lock, the generated admin
//! token and the generated key sealing the webhook secrets 0600 — also when an earlier version left them readable by all (issue 14 finding 6:
//! a 0644 database file in a 0755 directory).

#![cfg(unix)]

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use support::*;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_directory_and_its_files_are_private() {
    let dir = data_dir("private");
    // As an earlier version left it: world-readable directory and database.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let db = dir.join("zs-scheduler.db");
    std::fs::write(&db, b"").unwrap();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    // No ZS_ADMIN_TOKEN: one is generated and kept in the directory.
    let server = Server::start(&dir, &[("ZS_ADMIN_TOKEN", String::new())]);
    let ready = reqwest::get(server.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(mode(&dir), 0o700, "the data directory");
    for f in [
        "zs-scheduler.db",
        "zs-scheduler.db-wal",
        "zs-scheduler.db-shm",
        "lock",
        "admin-token",
        "secret-key",
    ] {
        assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
    }
}
