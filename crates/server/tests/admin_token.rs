//! Without `ZS_ADMIN_TOKEN`, the first start generates an admin token, keeps it in the data
//! directory (owner-only) and prints it once; later starts reuse it silently.

mod support;

use std::os::unix::fs::PermissionsExt;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_admin_token_is_kept_and_printed_once() {
    let dir = data_dir("token");
    let unset = [("ZS_ADMIN_TOKEN", String::new())];
    let server = Server::start(&dir, &unset);
    let printed: Vec<String> = server
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("generated admin token"))
        .cloned()
        .collect();
    assert_eq!(printed.len(), 1, "{:?}", server.log.lock().unwrap());
    let token = printed[0].rsplit(' ').next().unwrap().to_owned();
    let kept = std::fs::read_to_string(dir.join("admin-token")).unwrap();
    assert_eq!(kept, token);
    let mode = std::fs::metadata(dir.join("admin-token"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let mut api = Api::new(&server.base);
    api.token = token.clone();
    assert_eq!(api.get("/v1/spaces").await.0, 200);
    api.token = ADMIN.into();
    assert_eq!(api.get("/v1/spaces").await.0, 401);
    assert!(server.stop().success());

    let server = Server::start(&dir, &unset);
    assert!(
        !server
            .log
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("generated admin token")),
        "printed once only"
    );
    let mut api = Api::new(&server.base);
    api.token = token;
    assert_eq!(api.get("/v1/spaces").await.0, 200);
    // One process per data directory.
    let second = std::process::Command::new(env!("CARGO_BIN_EXE_zs-scheduler"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("another zs-scheduler is running"));
}
