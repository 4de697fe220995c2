//! The MCP server's wording of what the core leaves to each front end: its tools and their arguments.

use baton_core::words::Words;
use baton_core::{Hint, Omission, Omitted, Usage, Warning};

/// Names tools and tool arguments where the command line names commands and flags.
pub struct Tools;

impl Words for Tools {
    fn hint(&self, hint: &Hint) -> String {
        match hint {
            Hint::NameSession => "; pass session_id".to_string(),
            Hint::StartOrNameSession => ": start one with session_start, or pass session_id".to_string(),
            Hint::ResumeOrNameSession { session, verb } => format!(
                "; resume it with session_resume (session_id {session}), or pass session_id {session} to {verb} it while it is paused"
            ),
            Hint::StartNewSession => "; start a new session with session_start".to_string(),
            Hint::ListSessions => ": see session_list".to_string(),
            Hint::ForceWithReason => "; pass force and a reason to override".to_string(),
            Hint::DeclareType { item_type } => format!(
                "; declare new ones with types = [\"{item_type}\"] in .baton/config.toml, or claim it as a new type with new_type"
            ),
        }
    }

    fn usage(&self, usage: &Usage) -> String {
        // The request's field names are the tools' argument names.
        usage.neutral()
    }

    fn warning(&self, w: &Warning) -> String {
        match w {
            Warning::OthersActive { .. } => format!(
                "{}; calls that name no session will ask which one is meant: pass session_id, or end the other with session_end",
                w.plain()
            ),
            Warning::UnknownProject { known, .. } if !known.is_empty() => {
                format!("{} — list them with session_list and all_projects", w.plain())
            }
            _ => w.plain(),
        }
    }

    fn see(&self, o: &Omission) -> String {
        match o.what {
            Omitted::Events => "see what_changed".to_string(),
            Omitted::OpenClaims | Omitted::OtherClaims => "see list_claims".to_string(),
            Omitted::MyClaims => "see list_claims with mine".to_string(),
            Omitted::OpenSessions => "see session_list".to_string(),
            Omitted::Blockers => "see session_view".to_string(),
            Omitted::Handoff => match &o.session_id {
                Some(id) => format!("see session_view with session_id {id}"),
                None => "see session_view on that session".to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_core::Error;
    use baton_core::words::CommandLine;

    #[test]
    fn warnings_name_tool_arguments_not_flags() {
        let w = Warning::OthersActive {
            agent: "alice".into(),
            sessions: vec![baton_core::ActiveSession {
                id: "s1".into(),
                context: Some("auth refactor".into()),
            }],
            more: false,
        };
        let said = Tools.warning(&w);
        assert_eq!(
            said,
            "agent 'alice' already has 1 active session in this project: s1 (auth refactor); calls that name no session will ask which one is meant: pass session_id, or end the other with session_end"
        );
        let cli = CommandLine.warning(&w);
        assert!(cli.contains("--session ID") && !said.contains("--"), "{cli} / {said}");
        let unknown = Warning::UnknownProject {
            key: "acme/ap".into(),
            store: "/tmp/baton.db".into(),
            known: vec!["acme/app".into()],
            more: true,
        };
        assert_eq!(
            Tools.warning(&unknown),
            "project 'acme/ap' is new to this store (a mistyped key splits a team in two); known projects, nearest first: 'acme/app', … — list them with session_list and all_projects"
        );
    }

    #[test]
    fn advice_names_tool_arguments_not_flags() {
        let ambiguous = Error::bad_input("ambiguous session: agent 'a' has 2 active sessions in this project: x, y")
            .with_hint(Hint::NameSession);
        assert_eq!(
            Tools.error(&ambiguous),
            "ambiguous session: agent 'a' has 2 active sessions in this project: x, y; pass session_id"
        );
        assert_eq!(
            CommandLine.error(&ambiguous),
            "ambiguous session: agent 'a' has 2 active sessions in this project: x, y; pass --session ID or set BATON_SESSION"
        );
        let none =
            Error::not_found("no active session of agent 'a' in project 'p'").with_hint(Hint::StartOrNameSession);
        assert_eq!(
            Tools.error(&none),
            "no active session of agent 'a' in project 'p': start one with session_start, or pass session_id"
        );
        let force = Error::usage(Usage::ForceWithoutReason);
        assert_eq!(
            Tools.error(&force),
            "force needs a reason: say why the holder's claim is overridden"
        );
        assert!(CommandLine.error(&force).starts_with("--force needs --reason TEXT"));
    }

    #[test]
    fn every_hint_and_omission_is_worded_without_flags_or_commands() {
        let hints = [
            Hint::NameSession,
            Hint::StartOrNameSession,
            Hint::ResumeOrNameSession {
                session: "s".into(),
                verb: "log".into(),
            },
            Hint::StartNewSession,
            Hint::ListSessions,
            Hint::ForceWithReason,
            Hint::DeclareType { item_type: "t".into() },
        ];
        let omitted = [
            Omitted::Events,
            Omitted::OpenClaims,
            Omitted::OtherClaims,
            Omitted::MyClaims,
            Omitted::OpenSessions,
            Omitted::Blockers,
            Omitted::Handoff,
        ];
        let texts = hints
            .iter()
            .map(|h| Tools.hint(h))
            .chain(omitted.iter().map(|w| Tools.see(&Omission::cut(*w, 2))));
        for text in texts {
            assert!(!text.contains("--") && !text.contains("`baton"), "{text}");
        }
    }
}
