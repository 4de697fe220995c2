//! Gathering the journal of a session being imported: from its log or journal files first, then from the
//! items of its sections that the log does not already hold.

use baton_core::import::ImportedEntry;
use baton_core::{EntryKind, Handoff, Timestamp};

use crate::markdown::Item;
use crate::text::decode_body;

/// Journal entries in the making.
#[derive(Debug, Default)]
pub struct Journal {
    entries: Vec<ImportedEntry>,
}

impl Journal {
    pub fn push(&mut self, e: ImportedEntry) {
        self.entries.push(e);
    }

    /// Whether an entry of this kind with this text is already there.
    pub fn has(&self, kind: EntryKind, text: &str) -> bool {
        self.entries.iter().any(|e| e.kind == kind && e.text == text)
    }

    /// Adds a section's list item as an entry of `kind` at `at`, unless the journal or the handoff already
    /// holds it (a rendered document lists each entry both in its section and in its log).
    pub fn add_item(&mut self, item: &Item, kind: EntryKind, at: Timestamp, handoff: Option<&Handoff>) {
        let (text, rationale) = if kind == EntryKind::Decision {
            decode_body(&item.lines)
        } else {
            (crate::text::decode_text(&item.lines), None)
        };
        if text.trim().is_empty() || self.has(kind, &text) {
            return;
        }
        let in_handoff = handoff.is_some_and(|h| {
            let list = match kind {
                EntryKind::Done => &h.done,
                EntryKind::Next => &h.next,
                EntryKind::Blocker => &h.blockers,
                _ => return false,
            };
            list.contains(&text)
        });
        if in_handoff {
            return;
        }
        self.push(ImportedEntry {
            id: None,
            kind,
            text,
            rationale,
            created_at: at,
        });
    }

    /// The entries in time order (ties keep the order they were added in). An entry without an id is moved
    /// a microsecond past any earlier one it would tie with: rendering orders ties by id, and ids made at
    /// import are random, so only distinct times keep the document's order. Entries with their own ids keep
    /// their exact times.
    pub fn finish(mut self) -> Vec<ImportedEntry> {
        self.entries.sort_by_key(|e| e.created_at);
        let mut latest: Option<i64> = None;
        for e in &mut self.entries {
            if e.id.is_none()
                && let Some(prev) = latest
                && e.created_at.micros() <= prev
            {
                e.created_at = Timestamp(prev.saturating_add(1));
            }
            latest = Some(latest.map_or(e.created_at.micros(), |l| l.max(e.created_at.micros())));
        }
        self.entries
    }
}
