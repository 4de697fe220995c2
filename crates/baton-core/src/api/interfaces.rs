//! Interfaces: what sessions declare they produce, what others need of them, and the `interface_ready`
//! message a dependent session gets whenever what it needs is declared or updated.

use serde_json::json;

use super::op::Op;
use super::{Baton, Caller, ExportRequest, Exported, InterfaceList, NeedRequest, Needed, SessionId, clip, resolve};
use crate::error::{Error, Result};
use crate::model::{Address, Dependency, DependencyId, EventKind, Interface, InterfaceId, Session, SessionStatus};
use crate::parse;
use crate::store::{self, DependencyQuery, InterfaceQuery};

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
