//! Mermaid state diagrams generated from the transition tables (docs/state-machines.md).

use crate::event::EventKind;
use crate::machine::{Target, room, space};
use crate::state::{RoomState, SpaceState};
use std::collections::BTreeMap;
use std::fmt::Write;

fn render<S: Copy + Ord + PartialEq + 'static>(
    states: &[S],
    table: impl Fn(S, EventKind) -> Target<S>,
    name: impl Fn(S) -> &'static str,
) -> String {
    let ident = |s: S| name(s).replace('-', "_");
    let mut edges: BTreeMap<(S, S), Vec<&'static str>> = BTreeMap::new();
    for &from in states {
        for event in EventKind::ALL {
            for to in table(from, event).targets(from) {
                if to != from {
                    edges.entry((from, to)).or_default().push(event.as_str());
                }
            }
        }
    }
    let mut out = String::from("```mermaid\nstateDiagram-v2\n");
    for &s in states {
        let _ = writeln!(out, "    {}: {}", ident(s), name(s));
    }
    for ((from, to), events) in edges {
        let _ = writeln!(
            out,
            "    {} --> {}: {}",
            ident(from),
            ident(to),
            events.join(", ")
        );
    }
    out.push_str("```\n");
    out
}

/// The room machine as a Mermaid diagram.
pub fn room_diagram() -> String {
    render(&RoomState::ALL, room::table, RoomState::as_str)
}

/// The space machine as a Mermaid diagram.
pub fn space_diagram() -> String {
    render(&SpaceState::ALL, space::table, SpaceState::as_str)
}

/// A Markdown table of refused events per state.
fn refusals() -> String {
    let mut out = String::from("| machine | state | refused events |\n|---|---|---|\n");
    for s in RoomState::ALL {
        let r: Vec<_> = EventKind::ALL
            .into_iter()
            .filter(|e| room::refuses(s, *e))
            .map(|e| e.as_str())
            .collect();
        if !r.is_empty() {
            let _ = writeln!(out, "| room | `{}` | {} |", s.as_str(), r.join(", "));
        }
    }
    for s in SpaceState::ALL {
        let r: Vec<_> = EventKind::ALL
            .into_iter()
            .filter(|e| space::refuses(s, *e))
            .map(|e| e.as_str())
            .collect();
        if !r.is_empty() {
            let _ = writeln!(out, "| space | `{}` | {} |", s.as_str(), r.join(", "));
        }
    }
    out
}

/// The whole generated document.
pub fn document() -> String {
    format!(
        "# State machines\n\n<!-- generated from crates/core/src/machine by `zs-scheduler diagrams`; \
         a test fails when this file drifts -->\n\n\
         Self-loops (events that leave a machine where it is) are omitted. Where a cell lists \
         several targets, guards derived from the facts (CONTRACT §3) choose one.\n\n\
         ## Room\n\n{}\n## Space\n\n{}\n## Refused events\n\nA refused event gets HTTP 409 \
         `transition_refused` and changes nothing.\n\n{}",
        room_diagram(),
        space_diagram(),
        refusals()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn docs_match_the_tables() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/state-machines.md");
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        if on_disk != super::document() {
            if std::env::var_os("ZS_BLESS").is_some() {
                std::fs::write(path, super::document()).unwrap();
            } else {
                panic!("docs/state-machines.md drifted from the tables: rerun with ZS_BLESS=1");
            }
        }
    }

    #[test]
    fn readme_shows_the_current_diagrams() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
        let readme = std::fs::read_to_string(path).expect("README.md");
        assert!(
            readme.contains(&super::room_diagram()),
            "README room diagram drifted: copy `zs-scheduler diagrams`"
        );
        assert!(
            readme.contains(&super::space_diagram()),
            "README space diagram drifted"
        );
    }

    #[test]
    fn diagrams_name_every_state() {
        let d = super::document();
        for s in crate::RoomState::ALL {
            assert!(d.contains(s.as_str()));
        }
        assert!(d.contains("in_maintenance: in-maintenance"));
        assert!(d.contains("free --> upcoming"));
    }
}
