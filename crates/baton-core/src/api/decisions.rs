//! Decisions: the decisions sessions logged are the project's decisions. A newer decision may supersede an
//! older one of the same project; the list shows the decisions in force, and on request the replaced ones,
//! each naming what replaced it.

use serde_json::json;

use super::op::Op;
use super::{Baton, Caller, Decision, DecisionList, DecisionsRequest, clip};
use crate::error::{Error, Result};
use crate::model::{EntryId, EntryKind, EventKind, JournalEntry, Session};
use crate::parse::{self, Since};
use crate::store::{self, DecisionQuery};

/// How many decisions a list shows when no limit is given.
const DEFAULT_LIMIT: u32 = 100;

impl Baton {
    /// The project's decisions, newest first: those in force, or with `all` the superseded ones too.
    pub fn decisions(&self, caller: &Caller, req: &DecisionsRequest) -> Result<DecisionList> {
        let limit = req.limit.unwrap_or(DEFAULT_LIMIT);
        parse::check_limit(limit)?;
        let now = self.now();
        let since = match req.since.as_deref() {
            None => None,
            Some(text) => match parse::parse_since(text, now) {
                Ok(Since::Time(t)) => Some(t),
                // A cursor numbers events, not decisions.
                Ok(Since::Cursor(_)) | Err(_) => {
                    return Err(Error::usage(crate::error::Usage::InvalidSinceTime {
                        value: text.to_string(),
                    }));
                }
            },
        };
        let words = match req.search.as_deref() {
            Some(text) => parse::search_words(text)?,
            None => Vec::new(),
        };
        store::read(self.store(), |tx| {
            let rows = tx.decisions(&DecisionQuery {
                project: caller.project.key.clone(),
                since,
                words: words.clone(),
                include_superseded: req.all,
                limit,
            })?;
            Ok(DecisionList {
                project: caller.project.key.clone(),
                decisions: rows
                    .into_iter()
                    .map(|r| Decision {
                        entry: r.entry,
                        agent: r.agent,
                        superseded_by: r.superseded_by,
                    })
                    .collect(),
            })
        })
    }
}

impl Op<'_> {
    /// Logs a decision of `s` that replaces decision `old`, which must be a decision of the same project that
    /// nothing replaced yet; records the replacement as an event of its own.
    pub(super) fn supersede(
        &mut self,
        s: &mut Session,
        old: &EntryId,
        text: &str,
        rationale: Option<String>,
    ) -> Result<JournalEntry> {
        let replaced = match self.tx.entry_with_project(old)? {
            Some((entry, project)) if project == s.project => entry,
            _ => {
                return Err(Error::not_found(format!(
                    "no decision '{old}' in project {}: the entry to supersede must be a decision of this project",
                    s.project
                ))
                .with_value(old.as_str(), vec![]));
            }
        };
        if replaced.kind != EntryKind::Decision {
            return Err(Error::bad_input(format!(
                "entry '{old}' is a {} entry, not a decision: only a decision can be superseded",
                replaced.kind
            ))
            .with_value(old.as_str(), vec![EntryKind::Decision.to_string()]));
        }
        if let Some(by) = self.tx.superseded_by(old)? {
            return Err(Error::conflict(
                format!("decision '{old}' was already superseded by decision '{by}': supersede that one instead"),
                json!({"entry": old, "superseded_by": by}),
            ));
        }
        let entry = self.add_entry(s, EntryKind::Decision, text, rationale, Some(old.clone()))?;
        self.event(
            s,
            EventKind::DecisionSuperseded,
            old.to_string(),
            json!({"superseded_by": entry.id, "text": clip(&replaced.text, 500), "session_id": replaced.session_id}),
        )?;
        Ok(entry)
    }
}
