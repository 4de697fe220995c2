//! An instruction given to an agent, read against what the team knows: the context to work it with
//! (`context`), and which open session should take it (`recommend`). Both are deterministic: words shared
//! with what sessions said, claimed and declared, and the role the instruction reads as.

use std::collections::BTreeSet;

use super::op::Op;
use super::{Baton, Caller, Candidate, InstructionContext, Recommendation, resolve};
use crate::error::{Error, Result};
use crate::model::{Address, ClaimState, EntryKind, RequestStatus, Session, SessionStatus};
use crate::parse;
use crate::store::{self, ClaimQuery, DeliveryQuery, EntryQuery, InterfaceQuery, RequestQuery, SessionQuery};

/// The most of each kind `context` shows.
const SHOWN: usize = 5;
/// The most open sessions `recommend` weighs, and interfaces and decisions `context` reads.
const READ: u32 = 200;

/// Words that say nothing of what an instruction is about.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "for", "from", "in", "into", "is", "it", "of", "on",
    "or", "please", "so", "that", "the", "this", "to", "up", "we", "with", "you", "your", "make", "add", "fix", "use",
];

/// The roles an instruction reads as, by the words that say so; `implementer` when none does.
const ROLE_WORDS: &[(&str, &[&str])] = &[
    ("reviewer", &["review", "reviews", "reviewing", "approve", "feedback"]),
    ("tester", &["test", "tests", "testing", "coverage", "flaky", "qa"]),
    (
        "refactorer",
        &["refactor", "refactoring", "restructure", "rename", "cleanup", "tidy"],
    ),
    (
        "security",
        &[
            "security",
            "vulnerability",
            "vulnerabilities",
            "cve",
            "audit",
            "secrets",
            "xss",
            "injection",
        ],
    ),
];

/// The lowercase words of `text` that carry meaning (letters, digits, `_`; at least two characters).
pub(crate) fn words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map(str::to_lowercase)
        .filter(|w| w.chars().count() >= 2 && !STOP_WORDS.contains(&w.as_str()))
        .collect()
}

fn shared(a: &BTreeSet<String>, text: &str) -> Vec<String> {
    words(text).intersection(a).cloned().collect()
}

/// The role an instruction reads as.
fn role_of(instruction: &BTreeSet<String>) -> &'static str {
    ROLE_WORDS
        .iter()
        .find(|(_, ws)| ws.iter().any(|w| instruction.contains(*w)))
        .map(|(r, _)| *r)
        .unwrap_or("implementer")
}

fn check_instruction(text: &str) -> Result<()> {
    parse::check_nonempty_text("instruction", text).map_err(|e| e.in_field("instruction"))
}

impl Baton {
    /// `instruction` with the interfaces of other sessions that bear on it, the caller's unread messages, the
    /// project's newest decisions and the open requests, each bounded, saying what was left out.
    pub fn instruction_context(
        &self,
        caller: &Caller,
        instruction: &str,
        decisions: usize,
    ) -> Result<InstructionContext> {
        check_instruction(instruction)?;
        if !(1..=100).contains(&decisions) {
            return Err(
                Error::bad_input(format!("invalid number of decisions '{decisions}': expected 1 to 100"))
                    .in_field("decisions"),
            );
        }
        let ws = words(instruction);
        let project = caller.project.key.clone();
        store::read(self.store(), |tx| {
            let me = resolve::session_if_any(tx, caller)?;
            let mut left_out = Vec::new();
            let mut interfaces: Vec<(usize, crate::model::Interface)> = tx
                .interfaces(&InterfaceQuery {
                    project: Some(project.clone()),
                    limit: Some(READ),
                    ..Default::default()
                })?
                .into_iter()
                .filter(|i| me.as_ref().is_none_or(|s| s.id != i.session_id))
                .filter_map(|i| {
                    let text = format!(
                        "{} {} {}",
                        i.name,
                        i.file.as_deref().unwrap_or(""),
                        i.description.as_deref().unwrap_or("")
                    );
                    let n = shared(&ws, &text).len() + usize::from(ws.contains(&i.name.to_lowercase()));
                    (n > 0).then_some((n, i))
                })
                .collect();
            interfaces.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));
            if interfaces.len() > SHOWN {
                left_out.push(("interfaces".to_string(), (interfaces.len() - SHOWN) as u64));
                interfaces.truncate(SHOWN);
            }
            let (mut unread, mut unread_count, mut requests) = (Vec::new(), 0, Vec::new());
            if let Some(s) = &me {
                let query = DeliveryQuery {
                    recipients: vec![Address::Session(s.id.clone()), Address::Agent(s.agent.clone())],
                    unread_only: true,
                    ..Default::default()
                };
                unread_count = tx.count_deliveries(&query, 1000)?;
                for d in tx.deliveries(&DeliveryQuery {
                    limit: Some(SHOWN as u32),
                    ..query
                })? {
                    unread.extend(tx.message(&d.message_id)?);
                }
                if unread_count > unread.len() as u64 {
                    left_out.push(("unread".to_string(), unread_count - unread.len() as u64));
                }
                let mut to = vec![
                    Address::Session(s.id.clone()),
                    Address::Agent(s.agent.clone()),
                    Address::All,
                ];
                if let Some(r) = &s.role {
                    to.push(Address::Role(r.clone()));
                }
                requests = tx.requests(&RequestQuery {
                    project: Some(project.clone()),
                    to,
                    statuses: vec![RequestStatus::Pending],
                    limit: Some(READ),
                    ..Default::default()
                })?;
                requests.retain(|r| r.from_session != s.id);
                requests.extend(tx.requests(&RequestQuery {
                    project: Some(project.clone()),
                    from_session: Some(s.id.clone()),
                    statuses: vec![RequestStatus::Pending, RequestStatus::Accepted],
                    limit: Some(READ),
                    ..Default::default()
                })?);
                if requests.len() > SHOWN {
                    left_out.push(("requests".to_string(), (requests.len() - SHOWN) as u64));
                    requests.truncate(SHOWN);
                }
            }
            let mut decided = tx.entries(&EntryQuery {
                project: Some(project.clone()),
                kinds: vec![EntryKind::Decision],
                limit: Some(decisions as u32 + 1),
                ..Default::default()
            })?;
            if decided.len() > decisions {
                decided.truncate(decisions);
                left_out.push(("decisions".to_string(), 1));
            }
            Ok(InstructionContext {
                instruction: instruction.to_string(),
                session_id: me.map(|s| s.id),
                interfaces: interfaces.into_iter().map(|(_, i)| i).collect(),
                unread,
                unread_count,
                decisions: decided,
                requests,
                left_out,
            })
        })
    }

    /// Which open session of the project should take `instruction`, and why; none when none fits.
    pub fn recommend(&self, caller: &Caller, instruction: &str) -> Result<Recommendation> {
        check_instruction(instruction)?;
        let ws = words(instruction);
        let role = role_of(&ws).to_string();
        let now = self.now();
        store::read(self.store(), |tx| {
            let op = Op::at(self, tx, caller, now);
            let open = op.tx.sessions(&SessionQuery {
                project: Some(caller.project.key.clone()),
                statuses: vec![SessionStatus::Active, SessionStatus::Paused],
                limit: Some(READ),
                ..Default::default()
            })?;
            let mut weighed: Vec<(u32, Session, Vec<String>)> = Vec::new();
            for s in open {
                let s = op.decorate(s);
                let mut score = 0;
                let mut why = Vec::new();
                if s.role.as_deref() == Some(role.as_str()) {
                    score += 10;
                    why.push(format!("its role is {role}, which the instruction asks for"));
                }
                let about = format!(
                    "{} {}",
                    s.context.as_deref().unwrap_or(""),
                    s.name.as_deref().unwrap_or("")
                );
                let said = shared(&ws, &about);
                if !said.is_empty() {
                    score += 3 * said.len() as u32;
                    why.push(format!("its goal shares {}", quoted(&said)));
                }
                let claims = op.tx.claims(&ClaimQuery {
                    session_id: Some(s.id.clone()),
                    states: vec![ClaimState::Held],
                    limit: Some(READ),
                    ..Default::default()
                })?;
                let claimed: Vec<String> = claims
                    .iter()
                    .filter(|c| ws.contains(&c.item_id.to_lowercase()) || !shared(&ws, &c.item_id).is_empty())
                    .map(|c| c.key().label())
                    .collect();
                if !claimed.is_empty() {
                    score += 5 * claimed.len() as u32;
                    why.push(format!("it holds {}", claimed.join(", ")));
                }
                let exports = op.tx.interfaces(&InterfaceQuery {
                    project: Some(caller.project.key.clone()),
                    session_id: Some(s.id.clone()),
                    limit: Some(READ),
                    ..Default::default()
                })?;
                let made: Vec<String> = exports
                    .iter()
                    .filter(|i| {
                        let text = format!("{} {}", i.name, i.file.as_deref().unwrap_or(""));
                        !shared(&ws, &text).is_empty()
                    })
                    .map(|i| match &i.file {
                        Some(f) => format!("{} ({f})", i.name),
                        None => i.name.clone(),
                    })
                    .collect();
                if !made.is_empty() {
                    score += 4 * made.len() as u32;
                    why.push(format!("it made {}", made.join(", ")));
                }
                if s.stale {
                    score /= 2;
                    why.push("but it is stale".to_string());
                } else if s.status == SessionStatus::Paused {
                    score = score.saturating_sub(1);
                    why.push("but it is paused".to_string());
                }
                weighed.push((score, s, why));
            }
            weighed.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id)));
            let considered = weighed
                .iter()
                .map(|(score, s, _)| Candidate {
                    session_id: s.id.clone(),
                    agent: s.agent.clone(),
                    role: s.role.clone(),
                    score: *score,
                })
                .collect();
            // A session fits when something ties it to the instruction beyond being open.
            Ok(match weighed.into_iter().next().filter(|(score, _, _)| *score >= 3) {
                Some((_, s, reasons)) => Recommendation {
                    instruction: instruction.to_string(),
                    role: role.clone(),
                    session_id: Some(s.id),
                    agent: Some(s.agent),
                    reasons,
                    considered,
                },
                None => Recommendation {
                    reasons: vec![format!(
                        "no open session's role, goal, claims or interfaces bear on it: start a new session with role {role}"
                    )],
                    instruction: instruction.to_string(),
                    role: role.clone(),
                    session_id: None,
                    agent: None,
                    considered,
                },
            })
        })
    }
}

fn quoted(words: &[String]) -> String {
    words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_read_as_a_role_by_their_words() {
        assert_eq!(role_of(&words("Review the auth PR")), "reviewer");
        assert_eq!(role_of(&words("add tests for the parser")), "tester");
        assert_eq!(role_of(&words("Refactor the router")), "refactorer");
        assert_eq!(role_of(&words("audit for XSS")), "security");
        assert_eq!(role_of(&words("wire the login page")), "implementer");
        assert!(!words("the login page").contains("the"));
    }
}
