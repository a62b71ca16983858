//! ERROR lines: ordinary operation, faults included, logs none (issue 14 finding 2: a
//! cancellation logged a table miss). A run collects the ERROR events of its own thread
//! (where the engine works: the world is awaited there) and fails the step that logged one.

use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::{Event, Level, Metadata, Subscriber, span};

/// Collects ERROR events, as `target: field=value …` lines.
#[derive(Clone, Default)]
pub struct ErrorLines(Arc<Mutex<Vec<String>>>);

impl ErrorLines {
    /// The lines collected since the last call.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
}

impl Subscriber for ErrorLines {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        m.is_event() && *m.level() == Level::ERROR
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::ERROR)
    }

    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }

    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn event(&self, e: &Event<'_>) {
        let mut line = Line(format!("{}:", e.metadata().target()));
        e.record(&mut line);
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(line.0);
    }

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_error_events_only() {
        let lines = ErrorLines::default();
        tracing::subscriber::with_default(lines.clone(), || {
            tracing::warn!("faults warn by design");
            tracing::error!(space = "s1", "transition table miss");
        });
        let got = lines.take();
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].contains("transition table miss") && got[0].contains("space=\"s1\""));
        assert!(lines.take().is_empty());
    }
}
