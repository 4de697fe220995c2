//! How a front end words what the core leaves to it: the advice of an error ([`Hint`]), a refusal that names
//! the request's arguments ([`Usage`]), and where to see what a short answer left out ([`Omission`]).
//!
//! Each front end has one implementation of [`Words`]: [`CommandLine`] here, for the CLI and for hook answers
//! (their readers run the CLI); the MCP server's names its tools and their arguments.

use crate::api::{Omission, Omitted};
use crate::error::{Error, Hint, Usage};
use crate::warning::Warning;

/// A front end's wording.
pub trait Words {
    /// The advice, as a clause that follows the message (it brings its own leading punctuation).
    fn hint(&self, hint: &Hint) -> String;
    /// The whole sentence of a refusal that names the request's arguments.
    fn usage(&self, usage: &Usage) -> String;
    /// Where to see the rest of what a digest left out, like `see \`baton claims\``.
    fn see(&self, omission: &Omission) -> String;

    /// The error as this front end shows it: the core's message, or this front end's sentence for a
    /// refusal that names arguments, followed by its advice.
    fn error(&self, e: &Error) -> String {
        let facts = e.facts();
        let mut text = match facts.and_then(|f| f.usage.as_ref()) {
            Some(u) => self.usage(u),
            None => e.message().to_string(),
        };
        if let Some(h) = facts.and_then(|f| f.hint.as_ref()) {
            text.push_str(&self.hint(h));
        }
        text
    }

    /// A warning as this front end shows it.
    fn warning(&self, w: &Warning) -> String {
        w.neutral()
    }

    /// One note of what a digest left out, with where to see the rest.
    fn omission(&self, o: &Omission) -> String {
        format!("{} ({})", o.neutral(), self.see(o))
    }
}

/// The command line's wording: flags, environment variables and `baton` commands.
pub struct CommandLine;

impl Words for CommandLine {
    fn hint(&self, hint: &Hint) -> String {
        match hint {
            Hint::NameSession => "; pass --session ID or set BATON_SESSION".to_string(),
            Hint::StartOrNameSession => ": start one with `baton session start`, or pass --session ID".to_string(),
            Hint::ResumeOrNameSession { session, verb } => format!(
                "; resume it with `baton session resume {session}`, or pass --session {session} to {verb} it while it is paused"
            ),
            Hint::StartNewSession => "; start a new session with `baton session start`".to_string(),
            Hint::ListSessions => ": see `baton session list`".to_string(),
            Hint::ForceWithReason => "; use --force --reason TEXT to override".to_string(),
            Hint::DeclareType { item_type } => format!(
                "; declare new ones with types = [\"{item_type}\"] in .baton/config.toml, or claim it as a new type with --new-type"
            ),
        }
    }

    fn usage(&self, usage: &Usage) -> String {
        match usage {
            Usage::RationaleWithoutDecision { kind } => {
                format!("--rationale goes with a decision, not a {kind} entry: use --decision TEXT --rationale TEXT")
            }
            Usage::ForceWithoutReason => {
                "--force needs --reason TEXT: say why the holder's claim is overridden".to_string()
            }
            Usage::ReasonWithoutForce => "--reason goes with --force".to_string(),
            Usage::InvalidSince { value } => format!("invalid --since '{value}': {}", crate::error::SINCE_ACCEPTS),
            Usage::InvalidSinceTime { value } => {
                format!("invalid --since '{value}': {}", crate::error::SINCE_TIME_ACCEPTS)
            }
            Usage::SupersedesWithoutDecision { kind } => format!(
                "--supersedes goes with a decision, not a {kind} entry: use --decision TEXT --supersedes ENTRY_ID"
            ),
        }
    }

    fn warning(&self, w: &Warning) -> String {
        match w {
            Warning::OthersActive { .. } => format!(
                "{}; commands that name no session will ask which one is meant: pass --session ID (or set BATON_SESSION), or end the other with `baton session end --session ID`",
                w.plain()
            ),
            Warning::UnknownProject { known, .. } if !known.is_empty() => {
                format!("{} — list them with `baton session list --all-projects`", w.plain())
            }
            _ => w.plain(),
        }
    }

    fn see(&self, o: &Omission) -> String {
        match o.what {
            Omitted::Events => "see `baton changes`".to_string(),
            Omitted::OpenClaims | Omitted::OtherClaims => "see `baton claims`".to_string(),
            Omitted::MyClaims => "see `baton claims --mine`".to_string(),
            Omitted::OpenSessions => "see `baton session list`".to_string(),
            Omitted::Blockers => "see `baton session view`".to_string(),
            Omitted::Handoff => match &o.session_id {
                Some(id) => format!("see `baton session view {id}`"),
                None => "see `baton session view` on that session".to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_points_at_its_commands() {
        let cases = [
            (
                Omission::cut(Omitted::Events, 12),
                "12 newest events (see `baton changes`)",
            ),
            (
                Omission::more_than(Omitted::OpenClaims, 40),
                "more than 40 open claims (see `baton claims`)",
            ),
            (
                Omission::more_than(Omitted::OpenSessions, 20),
                "more than 20 other open sessions (see `baton session list`)",
            ),
            (
                Omission::cut(Omitted::MyClaims, 3),
                "3 of your claims (see `baton claims --mine`)",
            ),
            (
                Omission {
                    what: Omitted::Handoff,
                    count: None,
                    more: false,
                    session_id: Some("s1".into()),
                },
                "part of the last handoff (see `baton session view s1`)",
            ),
        ];
        for (o, text) in cases {
            assert_eq!(CommandLine.omission(&o), text);
        }
    }

    #[test]
    fn an_omission_is_data_in_json() {
        let o = Omission::more_than(Omitted::Blockers, 20);
        assert_eq!(
            serde_json::to_value(&o).expect("json"),
            serde_json::json!({"what": "blockers", "count": 20, "more": true})
        );
    }
}
