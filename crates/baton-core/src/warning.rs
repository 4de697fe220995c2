//! What a call that succeeded wants its caller to know. Like errors, warnings are data with a neutral
//! sentence ([`Warning::neutral`]); each front end words them in its own terms ([`crate::words::Words::warning`]).

use serde::{Deserialize, Serialize};

use crate::model::SessionId;

/// A warning that goes with an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Warning {
    /// The conversation already has a session (its client's hooks started it): that one goes on, and no
    /// second session was started.
    ConversationHasSession { session: SessionId },
    /// The agent has other active sessions in this project, so calls that name no session will ask which
    /// one is meant. `sessions` lists up to three of them; `more` says there are more.
    OthersActive {
        agent: String,
        sessions: Vec<ActiveSession>,
        more: bool,
    },
    /// No session but the caller's own has used this project key in the store: it may be mistyped.
    /// `known` lists the store's other project keys, nearest first (`more` when there are more); the
    /// store is named by its location.
    UnknownProject {
        key: String,
        store: String,
        known: Vec<String>,
        more: bool,
    },
    /// A warning kept as text (as results stored by earlier versions hold them).
    #[serde(untagged)]
    Said(String),
}

/// An active session a warning names, with the start of its goal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveSession {
    pub id: SessionId,
    pub context: Option<String>,
}

impl Warning {
    /// The sentence in no front end's terms: [`Warning::plain`] with neutral advice where there is some.
    pub fn neutral(&self) -> String {
        match self {
            Warning::OthersActive { .. } => {
                format!(
                    "{}; calls that name no session will ask which one is meant",
                    self.plain()
                )
            }
            Warning::UnknownProject { known, .. } if !known.is_empty() => {
                format!("{} — list the store's projects to see them all", self.plain())
            }
            _ => self.plain(),
        }
    }

    /// The part of the sentence every front end says the same way (the whole of it for warnings that
    /// name nothing a caller runs).
    pub fn plain(&self) -> String {
        match self {
            Warning::ConversationHasSession { session } => format!(
                "this conversation already has session {session} (started by the client's hooks): it goes on, and no second session was started"
            ),
            Warning::OthersActive { .. } => self.others_active_clause(),
            Warning::UnknownProject { key, store, .. } => self.unknown_project_clause().unwrap_or_else(|| {
                format!(
                    "project '{key}' is new to this store, and no other project is in it: is {store} the store you meant?"
                )
            }),
            Warning::Said(text) => text.clone(),
        }
    }

    fn others_active_clause(&self) -> String {
        let Warning::OthersActive { agent, sessions, more } = self else {
            return String::new();
        };
        let list: Vec<String> = sessions
            .iter()
            .map(|s| match s.context.as_deref() {
                Some(c) => format!("{} ({c})", s.id),
                None => s.id.to_string(),
            })
            .collect();
        let count = if *more {
            format!("more than {}", sessions.len())
        } else {
            sessions.len().to_string()
        };
        let plural = if sessions.len() == 1 && !more { "" } else { "s" };
        format!(
            "agent '{agent}' already has {count} active session{plural} in this project: {}",
            list.join(", ")
        )
    }

    /// For an unknown project with known others: the sentence up to where it says how to list them.
    fn unknown_project_clause(&self) -> Option<String> {
        let Warning::UnknownProject { key, known, more, .. } = self else {
            return None;
        };
        if known.is_empty() {
            return None;
        }
        let named: Vec<String> = known.iter().map(|k| format!("'{k}'")).collect();
        Some(format!(
            "project '{key}' is new to this store (a mistyped key splits a team in two); known projects, nearest first: {}{}",
            named.join(", "),
            if *more { ", …" } else { "" }
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_warning_keeps_its_facts_when_stored_and_reads_old_text() {
        let w = Warning::OthersActive {
            agent: "alice".into(),
            sessions: vec![ActiveSession {
                id: "s1".into(),
                context: None,
            }],
            more: true,
        };
        let stored = serde_json::to_string(&w).unwrap();
        assert_eq!(serde_json::from_str::<Warning>(&stored).unwrap(), w);
        assert_eq!(
            w.neutral(),
            "agent 'alice' already has more than 1 active sessions in this project: s1; calls that name no session will ask which one is meant"
        );
        // An answer stored by an earlier version holds its warnings as sentences.
        let old: Warning = serde_json::from_str("\"agent 'alice' already has 1 active session\"").unwrap();
        assert_eq!(old, Warning::Said("agent 'alice' already has 1 active session".into()));
        assert_eq!(old.neutral(), "agent 'alice' already has 1 active session");
    }

    #[test]
    fn an_unknown_project_with_no_other_names_the_store() {
        let w = Warning::UnknownProject {
            key: "acme/ap".into(),
            store: "/tmp/baton.db".into(),
            known: vec![],
            more: false,
        };
        assert_eq!(
            w.neutral(),
            "project 'acme/ap' is new to this store, and no other project is in it: is /tmp/baton.db the store you meant?"
        );
    }
}
