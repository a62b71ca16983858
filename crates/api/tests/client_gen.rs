//! A real client generator accepts the served OpenAPI document: `openapi-typescript` (pinned
//! in tests/client-gen/package-lock.json; `npm ci --prefix crates/api/tests/client-gen`, as
//! scripts/test.sh does) turns `/openapi.json` into `schema.d.ts`, and `tsc --noEmit` type-checks
//! a small `openapi-fetch` client that calls the API through it.

mod support;

use axum::body::Body;
use axum::http::Request;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use tower::ServiceExt;
use zs_api::limit::LimitConfig;
use zs_core::SystemClock;
use zs_engine::testing::TestEngine;
use zs_store::Backend;

fn project() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/client-gen")
}

/// A tool of the pinned Node project, or a clear failure saying how to install it.
fn tool(name: &str) -> PathBuf {
    let bin = project().join("node_modules/.bin").join(name);
    assert!(
        bin.exists(),
        "{} is missing: run `npm ci --prefix crates/api/tests/client-gen` (scripts/test.sh does)",
        bin.display()
    );
    bin
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("node is installed");
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The document exactly as the app serves it.
async fn served_document() -> Vec<u8> {
    let engine = TestEngine::on(Backend::Sqlite).label("clientgen");
    let engine = engine.build_with_clock(Arc::new(SystemClock)).await;
    let app = support::router(engine, vec![], LimitConfig::OFF);
    let req = Request::get("/openapi.json").body(Body::empty()).unwrap();
    let resp = app.oneshot(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    axum::body::to_bytes(resp.into_body(), 1 << 24)
        .await
        .unwrap()
        .to_vec()
}

#[tokio::test]
async fn a_typescript_client_generated_from_the_document_compiles() {
    let generator = tool("openapi-typescript");
    let tsc = tool("tsc");
    let dir = std::env::temp_dir().join(format!(
        "zs-client-gen-{}-{}",
        std::process::id(),
        zs_engine::payload::message_id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let doc = dir.join("openapi.json");
    std::fs::write(&doc, served_document().await).unwrap();
    for f in ["client.ts", "tsconfig.json"] {
        std::fs::copy(project().join(f), dir.join(f)).unwrap();
    }
    // The generated types import nothing; the client imports openapi-fetch from the project.
    std::os::unix::fs::symlink(project().join("node_modules"), dir.join("node_modules")).unwrap();
    run(Command::new(&generator)
        .arg(&doc)
        .arg("-o")
        .arg(dir.join("schema.d.ts")));
    let schema = std::fs::read_to_string(dir.join("schema.d.ts")).unwrap();
    for op in [
        "createSpace:",
        "createBooking:",
        "checkInBooking:",
        "retryDelivery:",
    ] {
        assert!(
            schema.contains(op),
            "no operation {op} in the generated types"
        );
    }
    assert!(schema.contains("export interface webhooks"));
    run(Command::new(&tsc).arg("-p").arg(dir.join("tsconfig.json")));
    std::fs::remove_dir_all(&dir).unwrap();
}
