//! The pages the binary serves, without a token, from files inside it (no address of another
//! host anywhere), each under a strict policy: `GET /docs` (Swagger UI on the served
//! document; the bare path redirects to the page), the dashboard `GET /`, the door panel
//! `GET /panel/{spaceId}` and their assets. Their behaviour in a browser is tested in
//! crates/server/tests/browser.rs.

use super::*;

/// (status, headers, body text) of a `GET` without a token.
async fn get(h: &Harness, path: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let req = Request::get(path).body(Body::empty()).unwrap();
    let resp = h.app.clone().oneshot(req).await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24)
        .await
        .unwrap();
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn header<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> &'a str {
    headers.get(name).map_or("", |v| v.to_str().unwrap())
}

/// Every `src`/`href` of the page stays on this origin: no CDN.
fn assert_no_other_host(text: &str) {
    for attr in ["src=\"", "href=\""] {
        for (i, _) in text.match_indices(attr) {
            let url = &text[i + attr.len()..];
            let url = &url[..url.find('"').unwrap()];
            assert!(
                !url.contains("//"),
                "the page loads {url} from another host"
            );
        }
    }
}

async fn the_docs_page_serves_the_document_from_the_binary(db: Backend) {
    let h = harness(db).await;
    let (status, headers, _) = get(&h, "/docs").await;
    assert!(status.is_redirection(), "{status}");
    assert_eq!(header(&headers, "location"), "/docs/");

    let (status, headers, page) = get(&h, "/docs/").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(header(&headers, "content-type").starts_with("text/html"));
    assert!(page.contains("swagger-ui"), "{page}");
    assert!(!page.contains("<script>"), "an inline script: {page}");
    assert_no_other_host(&page);
    let csp = header(&headers, "content-security-policy");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-eval"), "{csp}");

    let (status, _, init) = get(&h, "/docs/swagger-initializer.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(init.contains("\"/openapi.json\""), "{init}");
    assert!(!init.contains("http"), "{init}");
    for file in ["swagger-ui-bundle.js", "swagger-ui.css"] {
        let (status, headers, body) = get(&h, &format!("/docs/{file}")).await;
        assert_eq!(status, StatusCode::OK, "{file}");
        assert!(body.len() > 10_000, "{file} is {} bytes", body.len());
        assert!(!header(&headers, "content-security-policy").is_empty());
    }
    let (status, _, body) = get(&h, "/docs/no-such-file.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

async fn the_dashboard_and_the_panel_are_served_under_a_strict_policy(db: Backend) {
    let h = harness(db).await;
    for path in ["/", "/panel/room-1"] {
        let (status, headers, page) = get(&h, path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {page}");
        assert!(header(&headers, "content-type").starts_with("text/html"));
        assert!(page.contains("type=\"module\""), "{path}: {page}");
        assert!(
            !page.contains("<script>") && !page.contains("style="),
            "inline code: {page}"
        );
        assert_no_other_host(&page);
        let csp = header(&headers, "content-security-policy");
        assert!(
            csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
            "{csp}"
        );
        assert!(!csp.contains("unsafe"), "{csp}");
        assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
        assert_eq!(header(&headers, "referrer-policy"), "no-referrer");
    }
    let (_, _, dashboard) = get(&h, "/assets/dashboard.js").await;
    assert!(
        dashboard.contains("'data-space-state'"),
        "cards carry their states"
    );
    let (_, _, panel) = get(&h, "/panel/room-1").await;
    assert!(panel.contains("data-panel"), "{panel}");
    for (file, kind) in [
        ("app.css", "text/css"),
        ("common.js", "text/javascript"),
        ("dashboard.js", "text/javascript"),
        ("panel.js", "text/javascript"),
        ("timeline.js", "text/javascript"),
        ("utilisation.js", "text/javascript"),
    ] {
        let (status, headers, body) = get(&h, &format!("/assets/{file}")).await;
        assert_eq!(status, StatusCode::OK, "{file}");
        assert!(header(&headers, "content-type").starts_with(kind), "{file}");
        assert!(!body.is_empty());
        assert!(!body.contains("innerHTML"), "{file} parses markup");
    }
    let (status, _, _) = get(&h, "/assets/secret.txt").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, body) = get(&h, "/panel/not%20an%20id").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

zs_store::test_on_both_backends!(
    the_docs_page_serves_the_document_from_the_binary,
    the_dashboard_and_the_panel_are_served_under_a_strict_policy
);
