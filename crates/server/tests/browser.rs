//! The dashboard (`GET /`) and the door panel (`GET /panel/{spaceId}`) in a real browser:
//! Chromium driven by playwright-core (`tests/browser/dashboard.mjs`) against the real binary
//! on port 0. The script opens the dashboard with the token in the URL fragment, sees a space
//! and a booking made through the API appear, a hostile booking title stay text, maintenance
//! show within a second, the stream drop (offline) and resume with what it missed, and a
//! check-in on the panel show on the dashboard. scripts/test.sh installs Chromium and the
//! pinned playwright-core where they are missing.

mod support;

use support::{ADMIN, Server, data_dir};

fn chromium() -> String {
    std::env::var("ZS_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

#[test]
fn the_dashboard_and_the_panel_work_in_a_real_browser() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(
        std::path::Path::new(&chromium()).exists(),
        "Chromium is not at {} (install Debian's chromium, or set ZS_CHROMIUM; ./scripts/test.sh installs it)",
        chromium()
    );
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "playwright-core is not installed: npm ci --prefix crates/server/tests/browser (./scripts/test.sh does)"
    );
    let data = data_dir("browser");
    let server = Server::start(&data, &[]);
    let out = std::process::Command::new("node")
        .arg(dir.join("dashboard.mjs"))
        .arg(&server.base)
        .arg(ADMIN)
        .env("ZS_CHROMIUM", chromium())
        // scripts/screenshots.sh sets ZS_SCREENSHOTS=docs/screenshots; otherwise they are
        // taken all the same, into the target directory.
        .env(
            "ZS_SCREENSHOTS",
            std::env::var("ZS_SCREENSHOTS").unwrap_or_else(|_| {
                concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/screenshots").into()
            }),
        )
        .output()
        .expect("node is installed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "browser script failed:\n{stdout}\n{stderr}\nserver log:\n{}",
        server.log.lock().unwrap().join("\n")
    );
    println!("browser figures: {}", stdout.trim());
    let log = server.log.lock().unwrap().join("\n");
    assert!(!log.contains(ADMIN), "the token reached the server's log");
    assert!(!log.contains(" ERROR "), "an ERROR line: {log}");
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
}
