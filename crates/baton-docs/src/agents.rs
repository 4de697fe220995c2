//! The `agents` layout: `.agents/sessions/YYYYMMDD-HHMMSS-<slug>.md`.
//!
//! Frontmatter `session:` (title, status in_progress|paused|completed, created, last_updated, linear_issue?,
//! linear_url?, and baton's id, agent and handoff) and `orchestration:` (current_task, spawned_agents);
//! sections Context, Current State, Execution Progress, Decisions, Blockers, Next Steps and Session Log
//! (`### YYYY-MM-DD HH:MM - <agent>/<action>`).

use std::path::PathBuf;

use baton_core::import::{DocumentSource, ImportedEntry, ImportedSession};
use baton_core::{ClaimState, EntryKind, JournalEntry, SessionStatus, Timestamp};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::collect::Journal;
use crate::frontmatter::{self, HandoffYaml, Reader};
use crate::markdown::{self, NONE};
use crate::text::{self, encode_body, push_item};
use crate::{Document, Problem};

/// Where agents-layout documents live, relative to the repository's top.
pub const DIR: &str = ".agents/sessions";

/// The sections every agents document must have.
pub const REQUIRED_SECTIONS: &[&str] = &["Context", "Current State", "Next Steps"];

/// The statuses the layout knows.
pub const STATUSES: &[&str] = &["in_progress", "paused", "completed"];

/// The fields of an agents document that baton has no column for, as the import recorded them.
#[derive(Debug, Default)]
struct Extras {
    title: Option<String>,
    linear_issue: Option<String>,
    linear_url: Option<String>,
    current_task: Option<String>,
    spawned_agents: Vec<Map<String, Value>>,
    session: Map<String, Value>,
    orchestration: Map<String, Value>,
    extra: Map<String, Value>,
}

impl Extras {
    fn of(doc: Option<&Value>) -> Extras {
        let Some(Value::Object(d)) = doc else {
            return Extras::default();
        };
        let s = |k: &str| d.get(k).and_then(Value::as_str).map(str::to_string);
        let m = |k: &str| d.get(k).and_then(Value::as_object).cloned().unwrap_or_default();
        Extras {
            title: s("title"),
            linear_issue: s("linear_issue"),
            linear_url: s("linear_url"),
            current_task: s("current_task"),
            spawned_agents: d
                .get("spawned_agents")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|v| v.as_object().cloned()).collect())
                .unwrap_or_default(),
            session: m("session"),
            orchestration: m("orchestration"),
            extra: m("extra"),
        }
    }
}

#[derive(Serialize)]
struct Front<'a> {
    session: SessionYaml<'a>,
    orchestration: OrchestrationYaml<'a>,
    #[serde(flatten)]
    extra: &'a Map<String, Value>,
}

#[derive(Serialize)]
struct SessionYaml<'a> {
    title: &'a str,
    status: &'static str,
    created: String,
    last_updated: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    linear_issue: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    linear_url: Option<&'a str>,
    id: &'a str,
    agent: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    handoff: Option<HandoffYaml<'a>>,
    #[serde(flatten)]
    extra: &'a Map<String, Value>,
}

#[derive(Serialize)]
struct OrchestrationYaml<'a> {
    current_task: Option<&'a str>,
    spawned_agents: Vec<SpawnedYaml<'a>>,
    #[serde(flatten)]
    extra: &'a Map<String, Value>,
}

/// One sub-agent, with the layout's keys first.
#[derive(Serialize)]
struct SpawnedYaml<'a> {
    agent: &'a Value,
    task: &'a Value,
    status: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'a Value>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

const SPAWNED_KEYS: &[&str] = &["agent", "task", "status", "summary"];

/// The title a session's document shows: the imported one, else the first line of its goal, else its name.
fn title(src: &DocumentSource, extras: &Extras) -> String {
    let s = &src.context.session;
    extras
        .title
        .clone()
        .or_else(|| s.context.as_deref().and_then(|c| text::first_line(c, 80)))
        .or_else(|| s.name.clone())
        .unwrap_or_else(|| format!("Session {}", s.id))
}

/// The file of a session: its creation time and a slug of its name (or title).
pub fn path(src: &DocumentSource) -> PathBuf {
    let extras = Extras::of(src.document.as_ref());
    file_path(src, &extras)
}

fn file_path(src: &DocumentSource, extras: &Extras) -> PathBuf {
    let s = &src.context.session;
    let slug = match &s.name {
        Some(n) => text::slugify(n),
        None => text::slugify(&title(src, extras)),
    };
    PathBuf::from(DIR).join(format!("{}-{slug}.md", text::compact_second(s.created_at)))
}

/// What Current State says when the session has no summary: its latest progress.
fn derived_state<'a>(entries: impl DoubleEndedIterator<Item = (EntryKind, &'a str, Timestamp)>) -> String {
    let mut entries = entries;
    match entries.rfind(|(k, _, _)| matches!(k, EntryKind::Progress | EntryKind::Done)) {
        Some((_, t, at)) => format!("Latest progress ({}): {t}", text::minute(at)),
        None => "Nothing logged yet.".to_string(),
    }
}

fn push_lines(out: &mut String, lines: &[String]) {
    for l in lines {
        out.push_str(l);
        out.push('\n');
    }
}

/// Renders a session as an agents document.
pub fn render(src: &DocumentSource) -> Document {
    let ctx = &src.context;
    let s = &ctx.session;
    let extras = Extras::of(src.document.as_ref());
    let title = title(src, &extras);
    let entries = text::chronological(ctx);
    let handoff = s.handoff.clone().unwrap_or_default();
    // A claim held now is what the session works on; an imported document's own value stays otherwise.
    let current_task = ctx
        .claims
        .iter()
        .filter(|c| c.state == ClaimState::Held)
        .min_by(|a, b| (a.granted_at, &a.id).cmp(&(b.granted_at, &b.id)))
        .map(|c| c.key().label())
        .or_else(|| extras.current_task.clone());
    let spawned: Vec<SpawnedYaml<'_>> = extras
        .spawned_agents
        .iter()
        .map(|m| SpawnedYaml {
            agent: m.get("agent").unwrap_or(&Value::Null),
            task: m.get("task").unwrap_or(&Value::Null),
            status: m.get("status").unwrap_or(&Value::Null),
            summary: m.get("summary"),
            extra: m
                .iter()
                .filter(|(k, _)| !SPAWNED_KEYS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
        .collect();
    let front = Front {
        session: SessionYaml {
            title: &title,
            status: text::agents_status(s.status),
            created: s.created_at.short(),
            last_updated: s.updated_at.short(),
            linear_issue: extras.linear_issue.as_deref(),
            linear_url: extras.linear_url.as_deref(),
            id: &s.id,
            agent: &s.agent,
            handoff: HandoffYaml::of(s.handoff.as_ref()),
            extra: &extras.session,
        },
        orchestration: OrchestrationYaml {
            current_task: current_task.as_deref(),
            spawned_agents: spawned,
            extra: &extras.orchestration,
        },
        extra: &extras.extra,
    };

    let mut out = String::from("---\n");
    out.push_str(&frontmatter::to_yaml(&front));
    out.push_str("---\n\n");
    out.push_str(&format!("# {}\n", title.replace('\n', " ")));

    out.push_str("\n## Context\n\n");
    match s.context.as_deref().filter(|c| !c.trim().is_empty()) {
        Some(c) => push_lines(&mut out, &encode_body(c, None)),
        None => out.push_str(&format!("{NONE}\n")),
    }

    out.push_str("\n## Current State\n\n");
    let state = match &s.summary {
        Some(sum) if !sum.trim().is_empty() => sum.clone(),
        _ => derived_state(entries.iter().map(|e| (e.kind, e.text.as_str(), e.created_at))),
    };
    push_lines(&mut out, &encode_body(&state, None));

    let list = |out: &mut String, title: &str, items: Vec<(&str, Vec<String>)>| {
        out.push_str(&format!("\n## {title}\n\n"));
        if items.is_empty() {
            out.push_str(&format!("{NONE}\n"));
        }
        for (prefix, lines) in items {
            push_item(out, prefix, &lines);
        }
    };
    let of_kind = |kinds: &[EntryKind]| -> Vec<&JournalEntry> {
        entries.iter().copied().filter(|e| kinds.contains(&e.kind)).collect()
    };
    let mut progress: Vec<(&str, Vec<String>)> = of_kind(&[EntryKind::Progress, EntryKind::Done])
        .into_iter()
        .map(|e| {
            let prefix = if e.kind == EntryKind::Done { "- [x] " } else { "- " };
            (prefix, encode_body(&e.text, None))
        })
        .collect();
    progress.extend(handoff.done.iter().map(|d| ("- [x] ", encode_body(d, None))));
    list(&mut out, "Execution Progress", progress);
    let decisions = of_kind(&[EntryKind::Decision])
        .into_iter()
        .map(|e| ("- ", encode_body(&e.text, e.rationale.as_deref())))
        .collect();
    list(&mut out, "Decisions", decisions);
    let mut blockers: Vec<(&str, Vec<String>)> = of_kind(&[EntryKind::Blocker])
        .into_iter()
        .map(|e| ("- ", encode_body(&e.text, None)))
        .collect();
    blockers.extend(handoff.blockers.iter().map(|b| ("- ", encode_body(b, None))));
    list(&mut out, "Blockers", blockers);
    let mut next: Vec<(&str, Vec<String>)> = of_kind(&[EntryKind::Next])
        .into_iter()
        .map(|e| ("- ", encode_body(&e.text, None)))
        .collect();
    next.extend(handoff.next.iter().map(|n| ("- ", encode_body(n, None))));
    list(&mut out, "Next Steps", next);

    out.push_str("\n## Session Log\n");
    if entries.is_empty() {
        out.push_str(&format!("\n{NONE}\n"));
    }
    for e in &entries {
        out.push_str(&format!(
            "\n### {} - {}/{}\n\n",
            text::minute(e.created_at),
            s.agent,
            e.kind
        ));
        push_lines(&mut out, &encode_body(&e.text, e.rationale.as_deref()));
    }
    Document {
        path: file_path(src, &extras),
        content: out,
    }
}

/// `YYYYMMDD-HHMMSS-<slug>.md`: the time and the slug, if the name has that shape.
pub fn parse_file_name(name: &str) -> Option<(Timestamp, &str)> {
    let stem = name.strip_suffix(".md")?;
    if stem.len() < 17 || !stem.is_char_boundary(15) {
        return None;
    }
    let (stamp, rest) = stem.split_at(15);
    let slug = rest.strip_prefix('-')?;
    Some((text::parse_compact_second(stamp)?, slug))
}

/// A `### YYYY-MM-DD HH:MM - <agent>/<action>` heading: time, agent (if any) and action.
pub fn parse_log_heading(line: &str) -> Result<(Timestamp, Option<String>, String), String> {
    let expected = "expected `### YYYY-MM-DD HH:MM - <agent>/<action>`";
    let rest = line.strip_prefix("### ").ok_or_else(|| expected.to_string())?;
    let (when, who) = [" - ", " – ", " — "]
        .iter()
        .find_map(|sep| rest.split_once(sep))
        .ok_or_else(|| format!("log entry heading '{rest}' has no ' - ' between time and agent: {expected}"))?;
    let at = text::parse_time(when)
        .filter(|_| when.trim().len() >= 16)
        .ok_or_else(|| format!("log entry time '{}' is not YYYY-MM-DD HH:MM: {expected}", when.trim()))?;
    let who = who.trim();
    if who.is_empty() {
        return Err(format!("log entry heading names no agent or action: {expected}"));
    }
    Ok(match who.rsplit_once('/') {
        Some((agent, action)) if !agent.trim().is_empty() && !action.trim().is_empty() => {
            (at, Some(agent.trim().to_string()), action.trim().to_string())
        }
        _ => (at, None, who.to_string()),
    })
}

/// One parsed `### ...` entry of the Session Log.
struct LogEntry {
    at: Timestamp,
    agent: Option<String>,
    action: String,
    lines: Vec<String>,
}

fn parse_log(file: &str, section: &markdown::Section) -> Result<Vec<LogEntry>, Problem> {
    let mut out: Vec<LogEntry> = Vec::new();
    for (n, line) in &section.lines {
        if line.starts_with("### ") {
            let (at, agent, action) = parse_log_heading(line).map_err(|m| Problem::new(file, *n, "log-entry", m))?;
            out.push(LogEntry {
                at,
                agent,
                action,
                lines: Vec::new(),
            });
        } else if let Some(e) = out.last_mut() {
            e.lines.push(line.clone());
        } else if !line.trim().is_empty() && line.trim() != NONE {
            return Err(Problem::new(
                file,
                *n,
                "log-entry",
                "text in the Session Log before its first `### YYYY-MM-DD HH:MM - <agent>/<action>` entry",
            ));
        }
    }
    Ok(out)
}

/// Reads an agents document into a session to import.
pub fn parse(file: &str, text_in: &str) -> Result<ImportedSession, Problem> {
    let split = frontmatter::split(file, text_in)?;
    let map = frontmatter::parse(file, &split)?;
    let top = Reader {
        file,
        split: &split,
        path: vec![],
        map: &map,
    };
    let session = top.mapping("session")?.ok_or_else(|| top.missing("session"))?;
    let title = session.required_text("title")?;
    let status_text = session.required_text("status")?;
    let status = match status_text.as_str() {
        "in_progress" => SessionStatus::Active,
        "paused" => SessionStatus::Paused,
        "completed" => SessionStatus::Completed,
        other => {
            return Err(session.problem(
                "status",
                "allowed-value",
                format!(
                    "unknown status '{other}' in `session.status`: expected one of {}",
                    STATUSES.join(", ")
                ),
            ));
        }
    };
    let created = session.time("created", true)?.unwrap_or(Timestamp(0));
    let updated = session.time("last_updated", true)?.unwrap_or(created);
    let linear_issue = session.text("linear_issue")?;
    let linear_url = session.text("linear_url")?;
    let id = session
        .text("id")?
        .filter(|i| baton_core::parse::check_session_id(i).is_ok());
    let agent = session.text("agent")?;
    let handoff = session.handoff("handoff")?;
    let mut session_known = vec![
        "title",
        "status",
        "created",
        "last_updated",
        "linear_issue",
        "linear_url",
        "agent",
        "handoff",
    ];
    if id.is_some() {
        session_known.push("id");
    }

    let orchestration = top.mapping("orchestration")?;
    let (current_task, spawned, orchestration_extra) = match &orchestration {
        None => (None, Vec::new(), Map::new()),
        Some(o) => {
            let mut spawned = Vec::new();
            match o.map.get("spawned_agents") {
                None | Some(Value::Null) => {}
                Some(Value::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        let Value::Object(m) = item else {
                            return Err(o.problem(
                                "spawned_agents",
                                "bad-value",
                                format!(
                                    "`orchestration.spawned_agents` item {} is a {}, expected a mapping with agent, task, status and summary",
                                    i + 1,
                                    frontmatter::kind_of(item)
                                ),
                            ));
                        };
                        spawned.push(Value::Object(m.clone()));
                    }
                }
                Some(other) => {
                    return Err(o.problem(
                        "spawned_agents",
                        "bad-value",
                        format!(
                            "`orchestration.spawned_agents` is a {}, expected a list",
                            frontmatter::kind_of(other)
                        ),
                    ));
                }
            }
            (
                o.text("current_task")?,
                spawned,
                o.unknown(&["current_task", "spawned_agents"]),
            )
        }
    };

    let body = markdown::parse_body(split.body, split.body_line);
    for required in REQUIRED_SECTIONS {
        if body.section(required).is_none() {
            return Err(Problem::new(
                file,
                body.last_line,
                "required-section",
                format!("the document has no `## {required}` section"),
            ));
        }
    }
    let log = match body.section("Session Log") {
        Some(s) => parse_log(file, s)?,
        None => Vec::new(),
    };
    // Whose session: the frontmatter says, else whoever wrote most of the log.
    let agent = agent.or_else(|| {
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for e in &log {
            if let Some(a) = e.agent.as_deref() {
                match counts.iter_mut().find(|(n, _)| *n == a) {
                    Some((_, c)) => *c += 1,
                    None => counts.push((a, 1)),
                }
            }
        }
        counts.iter().max_by_key(|(_, c)| *c).map(|(a, _)| a.to_string())
    });

    let mut journal = Journal::default();
    for e in &log {
        let own = e.agent.is_none() || e.agent == agent;
        let kind = e.action.to_ascii_lowercase().parse::<EntryKind>().ok().filter(|_| own);
        let entry = match kind {
            Some(EntryKind::Decision) => {
                let (text, rationale) = text::decode_body(&e.lines);
                ImportedEntry {
                    id: None,
                    kind: EntryKind::Decision,
                    text: if text.trim().is_empty() { e.action.clone() } else { text },
                    rationale,
                    created_at: e.at,
                }
            }
            Some(kind) => {
                let text = text::decode_text(&e.lines);
                ImportedEntry {
                    id: None,
                    kind,
                    text: if text.trim().is_empty() { e.action.clone() } else { text },
                    rationale: None,
                    created_at: e.at,
                }
            }
            // Another agent's entry, or an action baton has no kind for: kept as a note that says who and what.
            None => {
                let label = match &e.agent {
                    Some(a) => format!("{a}/{}", e.action),
                    None => e.action.clone(),
                };
                let body = text::decode_text(&e.lines);
                ImportedEntry {
                    id: None,
                    kind: EntryKind::Note,
                    text: if body.trim().is_empty() {
                        label
                    } else {
                        format!("{label}: {body}")
                    },
                    rationale: None,
                    created_at: e.at,
                }
            }
        };
        journal.push(entry);
    }
    let h = handoff.as_ref();
    type KindOfItem = fn(Option<bool>) -> EntryKind;
    let lists: [(&str, KindOfItem); 4] = [
        ("Execution Progress", |c| match c {
            Some(true) => EntryKind::Done,
            Some(false) => EntryKind::Next,
            None => EntryKind::Progress,
        }),
        ("Decisions", |_| EntryKind::Decision),
        ("Blockers", |_| EntryKind::Blocker),
        ("Next Steps", |_| EntryKind::Next),
    ];
    for (name, kind_of) in lists {
        if let Some(sec) = body.section(name) {
            let (items, _) = markdown::items(&sec.lines);
            for item in &items {
                journal.add_item(item, kind_of(item.checked), updated, h);
            }
        }
    }
    let entries = journal.finish();

    let context = body.section("Context").and_then(|s| {
        let lines = markdown::text_lines(&s.lines);
        (!markdown::is_none(&lines)).then(|| text::decode_text(&lines))
    });
    let state = body
        .section("Current State")
        .map(|s| text::decode_text(&markdown::text_lines(&s.lines)))
        .unwrap_or_default();
    let derived = derived_state(entries.iter().map(|e| (e.kind, e.text.as_str(), e.created_at)));
    let summary = (!state.trim().is_empty() && state != derived).then_some(state);

    let name_in_file = std::path::Path::new(file)
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(parse_file_name)
        .map(|(_, slug)| slug.to_string())
        .filter(|s| text::is_slug(s) && s.len() <= 200);
    let name = name_in_file.unwrap_or_else(|| text::slugify(&title));
    let task_ids = linear_issue
        .iter()
        .filter(|i| baton_core::parse::check_id("task id", i).is_ok())
        .cloned()
        .collect();

    let mut document = Map::new();
    document.insert("title".into(), Value::String(title));
    for (k, v) in [
        ("linear_issue", &linear_issue),
        ("linear_url", &linear_url),
        ("current_task", &current_task),
    ] {
        if let Some(v) = v {
            document.insert(k.into(), Value::String(v.clone()));
        }
    }
    if !spawned.is_empty() {
        document.insert("spawned_agents".into(), Value::Array(spawned));
    }
    for (k, m) in [
        ("session", session.unknown(&session_known)),
        ("orchestration", orchestration_extra),
        ("extra", top.unknown(&["session", "orchestration"])),
    ] {
        if !m.is_empty() {
            document.insert(k.into(), Value::Object(m));
        }
    }
    let base = std::path::Path::new(file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.to_string());
    Ok(ImportedSession {
        id,
        key: format!("agents:{base}"),
        agent,
        name: Some(name),
        role: None,
        context,
        task_ids,
        status,
        git_branch: None,
        git_commit: None,
        created_at: created,
        updated_at: updated.max(created),
        ended_at: status.is_ended().then_some(updated.max(created)),
        compaction_count: 0,
        summary,
        handoff,
        entries,
        layout: "agents".to_string(),
        source: file.to_string(),
        document: Value::Object(document),
    })
}
