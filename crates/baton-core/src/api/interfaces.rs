//! Interfaces: what sessions declare they produce, what others need of them, and the `interface_ready`
//! message a dependent session gets whenever what it needs is declared or updated.

use serde_json::json;

use super::op::Op;
use super::{Baton, Caller, ExportRequest, Exported, InterfaceList, NeedRequest, Needed, SessionId, clip, resolve};
use crate::error::{Error, Result};
use crate::model::{Address, Dependency, DependencyId, EventKind, Interface, InterfaceId, Session, SessionStatus};
use crate::parse;
use crate::store::{self, DependencyQuery, InterfaceQuery};
use crate::time::Timestamp;

/// The most interfaces or dependencies one call reads.
const MAX_LISTED: u32 = 1000;

fn check_name(name: &str) -> Result<()> {
    parse::check_id("interface name", name).map_err(|e| e.in_field("name"))
}

/// Whether `from` names session `s` (its id, or its agent).
fn names(from: &Address, s: &Session) -> bool {
    match from {
        Address::Session(id) => *id == s.id,
        Address::Agent(a) => *a == s.agent,
        _ => false,
    }
}

impl Baton {
    /// Declares (or updates) an interface of the caller's session, and tells the sessions that need it.
    pub fn export(&self, caller: &Caller, req: ExportRequest) -> Result<Exported> {
        check_name(&req.name)?;
        if let Some(f) = &req.file {
            parse::check_nonempty_text("file", f).map_err(|e| e.in_field("file"))?;
        }
        if let Some(d) = &req.description {
            parse::check_text("description", d).map_err(|e| e.in_field("description"))?;
        }
        self.write(Some(caller), |tx| {
            let s = resolve::session_for_write(tx, caller, "export from")?;
            let mut op = Op::new(self, tx, caller);
            let existing = op
                .tx
                .interfaces(&InterfaceQuery {
                    project: Some(s.project.clone()),
                    session_id: Some(s.id.clone()),
                    name: Some(req.name.clone()),
                    limit: Some(1),
                })?
                .into_iter()
                .next();
            let (interface, updated) = match existing {
                Some(mut i) => {
                    i.file = req.file.clone().or(i.file);
                    i.description = req.description.clone().or(i.description);
                    i.updated_at = op.now;
                    op.tx.update_interface(&i)?;
                    (i, true)
                }
                None => {
                    let i = Interface {
                        id: InterfaceId::generate(),
                        project: s.project.clone(),
                        session_id: s.id.clone(),
                        agent: s.agent.clone(),
                        name: req.name.clone(),
                        file: req.file.clone(),
                        description: req.description.clone(),
                        created_at: op.now,
                        updated_at: op.now,
                    };
                    op.tx.insert_interface(&i)?;
                    (i, false)
                }
            };
            let told = op.tell_dependents(&s, &interface)?;
            let kind = if updated {
                EventKind::InterfaceUpdated
            } else {
                EventKind::InterfaceDeclared
            };
            op.event(
                &s,
                kind,
                interface.name.clone(),
                json!({"file": interface.file, "description": interface.description, "told": told}),
            )?;
            Ok(Exported {
                interface,
                updated,
                told,
            })
        })
    }

    /// The interfaces declared in the caller's project (of one session, when named), by name.
    pub fn interfaces(&self, caller: &Caller, session: Option<&str>) -> Result<InterfaceList> {
        if let Some(id) = session {
            parse::check_session_id(id)?;
        }
        let project = caller.project.key.clone();
        store::read(self.store(), |tx| {
            let interfaces = tx.interfaces(&InterfaceQuery {
                project: Some(project.clone()),
                session_id: session.map(SessionId::from),
                limit: Some(MAX_LISTED),
                ..Default::default()
            })?;
            Ok(InterfaceList {
                project: project.clone(),
                interfaces,
            })
        })
    }

    /// Records that the caller's session needs interface `name` from a session or an agent.
    pub fn need(&self, caller: &Caller, req: NeedRequest) -> Result<Needed> {
        check_name(&req.name)?;
        self.write(Some(caller), |tx| {
            let s = resolve::session_for_write(tx, caller, "record a need of")?;
            let mut op = Op::new(self, tx, caller);
            let from = op.address(&s.project, &req.from).map_err(|e| e.in_field("from"))?;
            if from.is_open() {
                return Err(Error::bad_input(format!(
                    "an interface is needed from a session or an agent, not from {from}"
                ))
                .in_field("from"));
            }
            if names(&from, &s) {
                return Err(Error::bad_input(format!(
                    "{from} is this session's own: a session does not need what it makes itself"
                ))
                .in_field("from"));
            }
            let known = op.tx.dependencies(&DependencyQuery {
                project: Some(s.project.clone()),
                session_id: Some(s.id.clone()),
                name: Some(req.name.clone()),
                limit: Some(MAX_LISTED),
            })?;
            let dependency = match known.into_iter().find(|d| d.from == from) {
                Some(d) => d,
                None => {
                    let d = Dependency {
                        id: DependencyId::generate(),
                        project: s.project.clone(),
                        session_id: s.id.clone(),
                        agent: s.agent.clone(),
                        name: req.name.clone(),
                        from: from.clone(),
                        created_at: op.now,
                    };
                    op.tx.insert_dependency(&d)?;
                    op.event(&s, EventKind::InterfaceNeeded, d.name.clone(), json!({"from": d.from}))?;
                    d
                }
            };
            let mut available = None;
            for i in op.tx.interfaces(&InterfaceQuery {
                project: Some(s.project.clone()),
                name: Some(req.name.clone()),
                limit: Some(MAX_LISTED),
                ..Default::default()
            })? {
                let exporter = op.unlocked_session(&i.session_id)?;
                if exporter.as_ref().is_some_and(|e| names(&from, e)) {
                    available = Some(i);
                }
            }
            Ok(Needed { dependency, available })
        })
    }
}

impl Op<'_> {
    /// Sends `interface_ready` from the exporting session to each session that needs `interface` from it.
    fn tell_dependents(&mut self, exporter: &Session, interface: &Interface) -> Result<Vec<Address>> {
        let needs = self.tx.dependencies(&DependencyQuery {
            project: Some(exporter.project.clone()),
            name: Some(interface.name.clone()),
            limit: Some(MAX_LISTED),
            ..Default::default()
        })?;
        let mut told = Vec::new();
        for d in needs {
            if !names(&d.from, exporter) || d.session_id == exporter.id {
                continue;
            }
            let to = match self.unlocked_session(&d.session_id)? {
                Some(dep) if dep.status != SessionStatus::Completed && dep.status != SessionStatus::Abandoned => {
                    Address::Session(dep.id)
                }
                _ => Address::Agent(d.agent.clone()),
            };
            if told.contains(&to) {
                continue;
            }
            let text = format!(
                "{} is ready{}{}",
                interface.name,
                interface
                    .file
                    .as_deref()
                    .map(|f| format!(" in {f}"))
                    .unwrap_or_default(),
                interface
                    .description
                    .as_deref()
                    .map(|d| format!(": {}", clip(d, 300)))
                    .unwrap_or_default()
            );
            let m = self.new_message(exporter, to.clone(), "interface_ready", &text, None)?;
            self.send_message(exporter, m)?;
            told.push(to);
        }
        Ok(told)
    }
}

/// What `import_team_context` did.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ContextImported {
    /// The sessions the file's labels name, found in the store or imported (completed, with their decisions).
    pub sessions: Vec<crate::import::ImportOutcome>,
    /// Interfaces declared or updated.
    pub interfaces: usize,
    /// Decisions written (with the sessions imported).
    pub decisions: usize,
    /// What was left as it is, and why.
    pub skipped: Vec<String>,
}

/// The area of an interface's file: the directory under `src/` (or the first directory), else `general`.
pub fn area_of(file: Option<&str>) -> String {
    let Some(f) = file else {
        return "general".to_string();
    };
    let parts: Vec<&str> = f.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    let dirs = &parts[..parts.len().saturating_sub(1)];
    match dirs {
        [] => "general".to_string(),
        ["src", area, ..] | ["lib", area, ..] => area.to_string(),
        [first, ..] => first.to_string(),
    }
}

impl Baton {
    /// What the project's sessions share, as `.baton/context.yaml` holds it; the same store gives the same value.
    pub fn team_context(&self, caller: &Caller) -> Result<super::TeamContext> {
        use crate::model::{EntryKind, RequestStatus};
        use crate::store::{EntryQuery, RequestQuery};
        let project = caller.project.key.clone();
        store::read(self.store(), |tx| {
            let mut labels: std::collections::HashMap<String, String> = std::collections::HashMap::new();
            let mut label = |tx: &mut dyn crate::store::Tx, id: &str| -> Result<String> {
                if let Some(l) = labels.get(id) {
                    return Ok(l.clone());
                }
                let l = tx.session(id)?.and_then(|s| s.name).unwrap_or_else(|| id.to_string());
                labels.insert(id.to_string(), l.clone());
                Ok(l)
            };
            let mut interfaces: std::collections::BTreeMap<String, Vec<super::ContextInterface>> = Default::default();
            for i in tx.interfaces(&InterfaceQuery {
                project: Some(project.clone()),
                limit: Some(MAX_LISTED),
                ..Default::default()
            })? {
                let session = label(tx, &i.session_id)?;
                interfaces
                    .entry(area_of(i.file.as_deref()))
                    .or_default()
                    .push(super::ContextInterface {
                        session,
                        agent: i.agent,
                        name: i.name,
                        file: i.file,
                        description: i.description,
                    });
            }
            let mut entries = tx.entries(&EntryQuery {
                project: Some(project.clone()),
                kinds: vec![EntryKind::Decision],
                limit: Some(MAX_LISTED),
                ..Default::default()
            })?;
            entries.reverse();
            let mut decisions = Vec::with_capacity(entries.len());
            for e in entries {
                let session = tx.session(&e.session_id)?;
                decisions.push(super::ContextDecision {
                    date: e.created_at.short().chars().take(10).collect(),
                    session: label(tx, &e.session_id)?,
                    agent: session.map(|s| s.agent).unwrap_or_default(),
                    decision: e.text,
                    rationale: e.rationale,
                });
            }
            let todos = tx
                .requests(&RequestQuery {
                    project: Some(project.clone()),
                    statuses: vec![RequestStatus::Pending, RequestStatus::Accepted],
                    limit: Some(MAX_LISTED),
                    ..Default::default()
                })?
                .into_iter()
                .map(|r| super::ContextTodo {
                    from: r.from_agent,
                    to: r.to.to_string(),
                    message: r.text,
                    status: r.status.to_string(),
                })
                .collect();
            Ok(super::TeamContext {
                project: project.clone(),
                interfaces,
                decisions,
                todos,
            })
        })
    }
}

impl Baton {
    /// Brings a context file into the store: each session it names is found (by id or name) or imported as a
    /// completed session with its decisions; each interface is declared for its session (updated when it
    /// differs). Importing the same file again changes nothing. Todos are not imported: a request is made by a
    /// session, with `baton request`.
    pub fn import_team_context(
        &self,
        caller: &Caller,
        c: &super::TeamContext,
        source: &str,
    ) -> Result<ContextImported> {
        use crate::import::{ImportedEntry, ImportedSession};
        use crate::model::{EntryKind, SessionStatus};
        let project = caller.project.key.clone();
        if c.project != project {
            return Err(Error::bad_input(format!(
                "{source} is the context of project '{}', not of '{project}': import it from that project",
                c.project
            )));
        }
        let mut labels: Vec<&str> = c.interfaces.values().flatten().map(|i| i.session.as_str()).collect();
        labels.extend(c.decisions.iter().map(|d| d.session.as_str()));
        labels.sort();
        labels.dedup();
        let now = self.now();
        let mut out = ContextImported {
            sessions: Vec::new(),
            interfaces: 0,
            decisions: 0,
            skipped: Vec::new(),
        };
        let mut ids = std::collections::HashMap::new();
        for label in labels {
            let found = store::read(self.store(), |tx| {
                Ok(tx
                    .sessions(&crate::store::SessionQuery {
                        project: Some(project.clone()),
                        limit: Some(MAX_LISTED),
                        ..Default::default()
                    })?
                    .into_iter()
                    .find(|s| s.id == label || s.name.as_deref() == Some(label)))
            })?;
            let decisions: Vec<&super::ContextDecision> = c.decisions.iter().filter(|d| d.session == label).collect();
            if let Some(s) = found {
                if !decisions.is_empty() {
                    out.skipped.push(format!(
                        "{} decisions of session {label}: it is in the store, with the decisions it logged",
                        decisions.len()
                    ));
                }
                ids.insert(label.to_string(), s.id);
                continue;
            }
            let day = |d: &str| -> Timestamp {
                Timestamp::parse_rfc3339(d)
                    .or_else(|_| Timestamp::parse_rfc3339(&format!("{d}T00:00:00Z")))
                    .unwrap_or(now)
            };
            let entries: Vec<ImportedEntry> = decisions
                .iter()
                .map(|d| ImportedEntry {
                    id: None,
                    kind: EntryKind::Decision,
                    text: d.decision.clone(),
                    rationale: d.rationale.clone(),
                    created_at: day(&d.date),
                })
                .collect();
            let agent = c
                .interfaces
                .values()
                .flatten()
                .filter(|i| i.session == label)
                .map(|i| i.agent.clone())
                .chain(decisions.iter().map(|d| d.agent.clone()))
                .find(|a| !a.is_empty());
            let created = entries.iter().map(|e| e.created_at).min().unwrap_or(now);
            let outcome = self.import_session(
                caller,
                ImportedSession {
                    id: uuid::Uuid::try_parse(label).ok().map(|_| label.to_string()),
                    key: format!("context:{project}:{label}"),
                    agent,
                    name: parse::check_id("session name", label).ok().map(|_| label.to_string()),
                    role: None,
                    context: None,
                    task_ids: Vec::new(),
                    status: SessionStatus::Completed,
                    git_branch: None,
                    git_commit: None,
                    created_at: created,
                    updated_at: created,
                    ended_at: Some(created),
                    compaction_count: 0,
                    summary: None,
                    handoff: None,
                    entries,
                    layout: "context".to_string(),
                    source: source.to_string(),
                    document: serde_json::Value::Null,
                },
            )?;
            if outcome.imported {
                out.decisions += outcome.entries;
            }
            ids.insert(label.to_string(), outcome.session_id.clone());
            out.sessions.push(outcome);
        }
        for i in c.interfaces.values().flatten() {
            let sid = ids[&i.session].clone();
            let changed = self.write(Some(caller), |tx| {
                let Some(s) = tx.session(&sid)? else {
                    return Ok(false);
                };
                let mut op = Op::new(self, tx, caller);
                let existing = op
                    .tx
                    .interfaces(&InterfaceQuery {
                        project: Some(project.clone()),
                        session_id: Some(sid.clone()),
                        name: Some(i.name.clone()),
                        limit: Some(1),
                    })?
                    .into_iter()
                    .next();
                let (interface, kind) = match existing {
                    Some(e) if e.file == i.file && e.description == i.description => return Ok(false),
                    Some(mut e) => {
                        e.file = i.file.clone();
                        e.description = i.description.clone();
                        e.updated_at = op.now;
                        op.tx.update_interface(&e)?;
                        (e, EventKind::InterfaceUpdated)
                    }
                    None => {
                        let e = Interface {
                            id: InterfaceId::generate(),
                            project: project.clone(),
                            session_id: sid.clone(),
                            agent: s.agent.clone(),
                            name: i.name.clone(),
                            file: i.file.clone(),
                            description: i.description.clone(),
                            created_at: op.now,
                            updated_at: op.now,
                        };
                        op.tx.insert_interface(&e)?;
                        (e, EventKind::InterfaceDeclared)
                    }
                };
                op.event(
                    &s,
                    kind,
                    interface.name.clone(),
                    json!({"file": interface.file, "description": interface.description, "source": source}),
                )?;
                Ok(true)
            })?;
            if changed {
                out.interfaces += 1;
            }
        }
        if !c.todos.is_empty() {
            out.skipped.push(format!(
                "{} todos: a request is made by a session (baton request --to ... --type ... TEXT)",
                c.todos.len()
            ));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::area_of;

    #[test]
    fn an_interface_is_filed_under_the_directory_it_lives_in() {
        assert_eq!(area_of(Some("src/auth/context.py")), "auth");
        assert_eq!(area_of(Some("./lib/billing/client.rs")), "billing");
        assert_eq!(area_of(Some("api/routes.ts")), "api");
        assert_eq!(area_of(Some("README.md")), "general");
        assert_eq!(area_of(None), "general");
    }
}
