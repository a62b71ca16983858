//! What a client generator and a reader need from the document: unique operation ids, a
//! description on every response, our own `info`, `servers`, examples that the schemas
//! accept, every webhook type, and duration patterns that say exactly what the server takes.

use super::doc::{Doc, METHODS};
use serde_json::{Value, json};
use std::collections::BTreeSet;

fn document() -> Doc {
    Doc::new(serde_json::to_value(zs_api::openapi()).unwrap())
}

/// `(where, operation)` for every operation of `paths` and `webhooks`.
fn operations(doc: &Value) -> Vec<(String, &Value)> {
    let mut out = vec![];
    for section in ["paths", "webhooks"] {
        for (path, item) in doc[section].as_object().unwrap() {
            for m in METHODS {
                if item[m].is_object() {
                    out.push((format!("{section} {m} {path}"), &item[m]));
                }
            }
        }
    }
    out
}

#[test]
fn operation_ids_are_unique_and_every_response_is_described() {
    let doc = document();
    let mut ids = BTreeSet::new();
    for (at, op) in operations(&doc.raw) {
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{at}: no operationId"));
        assert!(
            id.len() > 3
                && id.chars().next().unwrap().is_ascii_lowercase()
                && id.chars().all(|c| c.is_ascii_alphanumeric()),
            "{at}: operationId {id:?} is not camelCase"
        );
        assert!(
            ids.insert(id.to_owned()),
            "{at}: operationId {id} is used twice"
        );
        for (status, r) in op["responses"].as_object().unwrap() {
            let d = r["description"].as_str().unwrap_or_default();
            assert!(!d.trim().is_empty(), "{at} {status}: no description");
        }
    }
    for id in [
        "createSpace",
        "listSpaces",
        "getSpace",
        "createBooking",
        "listBookings",
        "getBooking",
    ] {
        assert!(ids.contains(id), "no operation {id}");
    }
}

#[test]
fn info_and_servers_are_ours() {
    let doc = document();
    let info = &doc.raw["info"];
    assert_eq!(info["title"], "zs-scheduler");
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        info["license"],
        json!({"name": "Apache-2.0", "identifier": "Apache-2.0"})
    );
    assert!(
        info.get("contact").is_none(),
        "a contact that is not ours: {}",
        info["contact"]
    );
    assert!(doc.raw["openapi"].as_str().unwrap().starts_with("3.1"));
    let servers = doc.raw["servers"].as_array().unwrap();
    assert_eq!(servers[0]["url"], "http://127.0.0.1:8080");
    assert!(
        servers[0]["description"]
            .as_str()
            .unwrap()
            .contains("default listen address")
    );
}

#[test]
fn every_request_body_has_an_example_its_schema_accepts() {
    let doc = document();
    for (at, op) in operations(&doc.raw) {
        if !at.starts_with("paths") || !op["requestBody"].is_object() {
            continue;
        }
        let media = &op["requestBody"]["content"]["application/json"];
        let schema = doc.resolve(&media["schema"]);
        let example = media.get("example").or_else(|| schema.get("example"));
        let example = example.unwrap_or_else(|| panic!("{at}: the request body has no example"));
        if let Err(e) = doc.validate(&media["schema"], example) {
            panic!("{at}: its own example is refused: {e}");
        }
    }
    // And the examples of the schemas the bodies use.
    for name in ["BusinessHours", "SpacePatch"] {
        let s = &doc.raw["components"]["schemas"][name];
        doc.validate(s, &s["example"]).unwrap();
    }
}

#[test]
fn every_webhook_type_is_documented_with_its_body() {
    let doc = document();
    let documented: Vec<&String> = doc.raw["webhooks"].as_object().unwrap().keys().collect();
    let mut sent: Vec<&str> = zs_core::notice::WEBHOOK_TYPES.to_vec();
    sent.sort();
    assert_eq!(documented, sent);
    for kind in zs_core::notice::WEBHOOK_TYPES {
        let body = &doc.raw["webhooks"][kind]["post"]["requestBody"]["content"]["application/json"]
            ["schema"];
        let schema = doc.resolve(body);
        assert_eq!(
            schema["required"],
            json!(["type", "timestamp", "data"]),
            "{kind}"
        );
        let said = doc.raw["webhooks"][kind]["post"]["description"]
            .as_str()
            .unwrap();
        assert!(
            !said.starts_with("An event of this type"),
            "{kind}: say when it is sent"
        );
        // The document's body schema takes its own type name and no other's.
        let mut probe = json!({"type": kind, "timestamp": "2026-05-04T09:00:00Z", "data": {}});
        let refused_type = doc.validate(body, &probe).unwrap_err();
        assert!(!refused_type.contains("/type"), "{kind}: {refused_type}");
        probe["type"] = json!("booking.exploded");
        assert!(
            doc.validate(body, &probe).unwrap_err().contains("/type"),
            "{kind}"
        );
    }
}

#[test]
fn duration_patterns_say_exactly_what_the_server_takes() {
    let doc = document();
    let samples = [
        "PT15M",
        "pt5m",
        "Pt1h",
        "PT1H30M",
        "PT1H2M3.004S",
        "PT90.5S",
        "PT24H",
        "PT1H5S",
        "5m",
        "15 minutes",
        "1h",
        "PT",
        "P",
        "P1D",
        "P0DT5M",
        "PT1.5M",
        "PT30M1H",
        "PT1,5S",
        "PT1.0000S",
        "-PT5M",
        "+PT5M",
        " PT5M",
        "PT5M ",
        "PT5",
        "PTM",
        "PT1S1S",
        "PT.5S",
        "PT1.S",
        "",
    ];
    let mut checked = 0;
    for name in ["SpaceInput", "SpacePatch"] {
        for field in ["upcomingLead", "noShowGrace", "cleaning"] {
            let p = &doc.raw["components"]["schemas"][name]["properties"][field]["pattern"];
            let schema = json!({"type": "string", "pattern": p});
            for s in samples {
                let documented = doc.validate(&schema, &json!(s)).is_ok();
                assert_eq!(
                    documented,
                    zs_api::dto::iso_period_syntax(s),
                    "{name}.{field}: the pattern and the server disagree on {s:?}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 6);
}

#[test]
fn policy_patterns_say_exactly_what_the_server_takes() {
    let doc = document();
    let samples = [
        "P90D",
        "p2w",
        "P1DT12H",
        "P1dT0.5S",
        "PT4H",
        "pt30m",
        "PT1H2M3.004S",
        "P0D",
        "P1W",
        "90d",
        "P",
        "PT",
        "P1D1W",
        "P1W1D",
        "P1DT",
        "P1M",
        "P1Y",
        "PD",
        "P1.5D",
        "P1D T1H",
        "-P1D",
        "+P1D",
        "P1DT30M1H",
        " P1D",
        "P1D ",
        "P1DT1.5M",
        "PT1.0000S",
        "P1WT1H",
        "",
    ];
    let mut checked = 0;
    for name in ["SpaceInput", "SpacePatch"] {
        for field in ["maxDuration", "minDuration", "bookingHorizon", "minNotice"] {
            let p = &doc.raw["components"]["schemas"][name]["properties"][field]["pattern"];
            assert!(p.is_string(), "{name}.{field} has no pattern");
            let schema = json!({"type": "string", "pattern": p});
            for s in samples {
                let documented = doc.validate(&schema, &json!(s)).is_ok();
                assert_eq!(
                    documented,
                    zs_api::dto::iso_limit_syntax(s),
                    "{name}.{field}: the pattern and the server disagree on {s:?}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 8);
}

#[test]
fn business_hours_are_typed() {
    let doc = document();
    let hours = json!({"$ref": "#/components/schemas/BusinessHours"});
    doc.validate(
        &hours,
        &json!({"mon": [{"open": "08:00", "close": "24:00"}], "sun": []}),
    )
    .unwrap();
    for bad in [
        json!({"monday": []}),
        json!({"mon": [{"open": "8:00", "close": "18:00"}]}),
        json!({"mon": [{"open": "24:00", "close": "24:00"}]}),
        json!({"mon": [{"open": "00:00", "close": "00:00"}]}),
        json!({"mon": [{"open": "08:00", "close": "18:60"}]}),
        json!({"mon": [{"open": "08:00"}]}),
        json!({"mon": "08:00-18:00"}),
    ] {
        assert!(doc.validate(&hours, &bad).is_err(), "{bad} accepted");
    }
}

#[test]
fn a_name_must_have_more_than_spaces() {
    let doc = document();
    for schema in ["SpaceInput", "SpacePatch"] {
        let name = &doc.raw["components"]["schemas"][schema]["properties"]["name"];
        for good in ["Room 1", " Room 1 ", "Raum für 12", "x"] {
            assert!(
                doc.validate(name, &json!(good)).is_ok(),
                "{schema}: {good:?}"
            );
        }
        for bad in ["", " ", "\u{3000} \u{a0}", "tab\there", "bell\u{7}"] {
            assert!(
                doc.validate(name, &json!(bad)).is_err(),
                "{schema}: {bad:?}"
            );
        }
    }
}

#[test]
fn opening_time_patterns_say_exactly_what_the_server_takes() {
    let doc = document();
    let field = |f: &str| {
        let p = &doc.raw["components"]["schemas"]["OpeningInterval"]["properties"][f]["pattern"];
        jsonschema::validator_for(&json!({"type": "string", "pattern": p})).unwrap()
    };
    let (open, close) = (field("open"), field("close"));
    let mut times: Vec<String> = (0..100)
        .flat_map(|h| (0..100).map(move |m| format!("{h:02}:{m:02}")))
        .collect();
    times.extend(["8:00", "08:0", "0800", " 08:00", "08:00 ", "24:00:00", ""].map(String::from));
    let takes = |open: &str, close: &str| {
        let v = json!({"mon": [{"open": open, "close": close}]});
        zs_core::calendar::BusinessHours::parse_json(&v).is_ok()
    };
    for t in &times {
        let t = t.as_str();
        // Against the widest partner, so that only the time itself decides.
        assert_eq!(open.is_valid(&json!(t)), takes(t, "24:00"), "open {t:?}");
        assert_eq!(close.is_valid(&json!(t)), takes("00:00", t), "close {t:?}");
    }
}
