//! The `sessions` layout: `.sessions/active/<shortname>-<id>.md` (or `archive/` once the session ended) with
//! frontmatter id, shortname, status, task_ids, created_at, updated_at, compaction_count, git_branch,
//! git_last_commit (and baton's agent, role, ended_at, summary and handoff), sections TL;DR, Context,
//! Progress, Decisions, Discoveries, Blockers and Next Steps; plus `.sessions/journal/<id>/progress.md` and
//! one file per journal entry in `.sessions/journal/<id>/entries/`.

use std::path::{Path, PathBuf};

use baton_core::import::{DocumentSource, ImportedEntry, ImportedSession};
use baton_core::{EntryKind, JournalEntry, SessionStatus, Timestamp};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::collect::Journal;
use crate::frontmatter::{self, HandoffYaml, Reader};
use crate::markdown::{self, NONE};
use crate::text::{self, encode_body, push_item};
use crate::{Document, Problem};

/// Where sessions-layout documents live, relative to the repository's top.
pub const DIR: &str = ".sessions";

/// The sections every sessions document must have.
pub const REQUIRED_SECTIONS: &[&str] = &["TL;DR", "Context", "Next Steps"];

const CURRENT: &str = " <- CURRENT";

const KNOWN_KEYS: &[&str] = &[
    "id",
    "shortname",
    "status",
    "task_ids",
    "created_at",
    "updated_at",
    "compaction_count",
    "git_branch",
    "git_last_commit",
    "agent",
    "role",
    "ended_at",
    "summary",
    "handoff",
];

#[derive(Serialize)]
struct Front<'a> {
    id: &'a str,
    shortname: &'a str,
    status: &'a str,
    task_ids: &'a [String],
    created_at: String,
    updated_at: String,
    compaction_count: i64,
    git_branch: Option<&'a str>,
    git_last_commit: Option<&'a str>,
    agent: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ended_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    handoff: Option<HandoffYaml<'a>>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

#[derive(Serialize)]
struct EntryFront<'a> {
    id: &'a str,
    kind: &'a str,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    rationale: Option<&'a str>,
}

/// The short name of a session in this layout: its name, else a slug of its goal.
pub fn shortname(src: &DocumentSource) -> String {
    let s = &src.context.session;
    match &s.name {
        Some(n) => text::slugify(n),
        None => text::slugify(
            &s.context
                .as_deref()
                .and_then(|c| text::first_line(c, 80))
                .unwrap_or_default(),
        ),
    }
}

/// The main document's path for a session in this state, and the one for the other state.
fn main_paths(src: &DocumentSource) -> (PathBuf, PathBuf) {
    let s = &src.context.session;
    let file = format!("{}-{}.md", shortname(src), s.id);
    let (here, there) = if s.status.is_ended() {
        ("archive", "active")
    } else {
        ("active", "archive")
    };
    (
        PathBuf::from(DIR).join(here).join(&file),
        PathBuf::from(DIR).join(there).join(&file),
    )
}

fn push_lines(out: &mut String, lines: &[String]) {
    for l in lines {
        out.push_str(l);
        out.push('\n');
    }
}

/// Renders the main document, the journal summary and one file per journal entry; also returns the
/// main document's path in the other state, which must not linger.
pub fn render(src: &DocumentSource) -> (Vec<Document>, Vec<PathBuf>) {
    let ctx = &src.context;
    let s = &ctx.session;
    let short = shortname(src);
    let entries = text::chronological(ctx);
    let handoff = s.handoff.clone().unwrap_or_default();
    let extra = src
        .document
        .as_ref()
        .and_then(|d| d.get("frontmatter"))
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter(|(k, _)| !KNOWN_KEYS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    let front = Front {
        id: &s.id,
        shortname: &short,
        status: s.status.as_str(),
        task_ids: &s.task_ids,
        created_at: s.created_at.to_string(),
        updated_at: s.updated_at.to_string(),
        compaction_count: s.compaction_count,
        git_branch: s.git_branch.as_deref(),
        git_last_commit: s.git_commit.as_deref(),
        agent: &s.agent,
        role: s.role.as_deref(),
        ended_at: s.ended_at.map(|t| t.to_string()),
        summary: s.summary.as_deref(),
        handoff: HandoffYaml::of(s.handoff.as_ref()),
        extra,
    };
    let of_kind = |k: EntryKind| -> Vec<&JournalEntry> { entries.iter().copied().filter(|e| e.kind == k).collect() };

    let mut out = String::from("---\n");
    out.push_str(&frontmatter::to_yaml(&front));
    out.push_str(&format!("---\n\n# {short}\n\n## TL;DR\n\n"));
    if let Some(sum) = s.summary.as_deref().filter(|x| !x.trim().is_empty()) {
        push_lines(&mut out, &encode_body(sum, None));
        out.push('\n');
    }
    // The steps: what is done, then what is still to do; the first open one is the current step.
    let mut steps: Vec<(bool, &str)> = of_kind(EntryKind::Done)
        .iter()
        .map(|e| (true, e.text.as_str()))
        .collect();
    steps.extend(handoff.done.iter().map(|d| (true, d.as_str())));
    steps.extend(of_kind(EntryKind::Next).iter().map(|e| (false, e.text.as_str())));
    steps.extend(handoff.next.iter().map(|n| (false, n.as_str())));
    let done = steps.iter().filter(|(d, _)| *d).count();
    if steps.is_empty() {
        out.push_str("Progress: no steps recorded yet\n");
    } else {
        out.push_str(&format!("Progress: {done}/{} steps done\n", steps.len()));
    }
    let mut current_marked = false;
    for (is_done, t) in &steps {
        let mut lines = encode_body(t, None);
        if !is_done && !current_marked {
            current_marked = true;
            if let Some(first) = lines.first_mut() {
                first.push_str(CURRENT);
            }
        }
        push_item(&mut out, if *is_done { "- [x] " } else { "- [ ] " }, &lines);
    }
    out.push('\n');
    let blocker = of_kind(EntryKind::Blocker)
        .last()
        .map(|e| e.text.clone())
        .or_else(|| handoff.blockers.last().cloned());
    match blocker {
        Some(b) => {
            let mut lines = encode_body(&b, None);
            if let Some(first) = lines.first_mut() {
                *first = format!("Blocker: {first}");
            }
            push_lines(&mut out, &lines);
        }
        None => out.push_str("Blocker: none\n"),
    }

    out.push_str("\n## Context\n\n");
    match s.context.as_deref().filter(|c| !c.trim().is_empty()) {
        Some(c) => push_lines(&mut out, &encode_body(c, None)),
        None => out.push_str(&format!("{NONE}\n")),
    }
    let list = |out: &mut String, title: &str, items: Vec<Vec<String>>| {
        out.push_str(&format!("\n## {title}\n\n"));
        if items.is_empty() {
            out.push_str(&format!("{NONE}\n"));
        }
        for lines in items {
            push_item(out, "- ", &lines);
        }
    };
    let plain = |k: EntryKind| -> Vec<Vec<String>> {
        of_kind(k)
            .iter()
            .map(|e| encode_body(&e.text, e.rationale.as_deref()))
            .collect()
    };
    list(&mut out, "Progress", plain(EntryKind::Progress));
    list(&mut out, "Decisions", plain(EntryKind::Decision));
    list(&mut out, "Discoveries", plain(EntryKind::Discovery));
    let mut blockers = plain(EntryKind::Blocker);
    blockers.extend(handoff.blockers.iter().map(|b| encode_body(b, None)));
    list(&mut out, "Blockers", blockers);
    let mut next = plain(EntryKind::Next);
    next.extend(handoff.next.iter().map(|n| encode_body(n, None)));
    list(&mut out, "Next Steps", next);

    let (main, other) = main_paths(src);
    let mut files = vec![Document {
        path: main,
        content: out,
    }];

    let journal = PathBuf::from(DIR).join("journal").join(s.id.as_str());
    let mut progress = format!("# Journal of {short} ({})\n", s.id);
    if entries.is_empty() {
        progress.push_str(&format!("\n{NONE}\n"));
    } else {
        progress.push('\n');
    }
    let mut names: Vec<String> = Vec::new();
    for e in &entries {
        let lines = encode_body(&e.text, e.rationale.as_deref());
        push_item(
            &mut progress,
            &format!("- {} {}: ", text::minute(e.created_at), e.kind),
            &lines,
        );
        // Two entries in one microsecond still get a file each, numbered in their stable order.
        let base = text::compact_micro(e.created_at);
        let mut name = format!("{base}.md");
        let mut n = 1;
        while names.contains(&name) {
            n += 1;
            name = format!("{base}-{n}.md");
        }
        names.push(name.clone());
        let front = EntryFront {
            id: &e.id,
            kind: e.kind.as_str(),
            created_at: e.created_at.to_string(),
            rationale: e.rationale.as_deref(),
        };
        files.push(Document {
            path: journal.join("entries").join(name),
            content: format!("---\n{}---\n\n{}\n", frontmatter::to_yaml(&front), e.text),
        });
    }
    files.insert(
        1,
        Document {
            path: journal.join("progress.md"),
            content: progress,
        },
    );
    (files, vec![other])
}

/// The entry files of a sessions document's journal directory (`<.sessions>/journal/<id>/entries/*.md`),
/// as `(name, bytes)` sorted by name; empty when there is none.
pub fn read_journal(path: &Path, file: &str, text: &str) -> baton_core::Result<Vec<(String, Vec<u8>)>> {
    let split = frontmatter::split(file, text)?;
    let map = frontmatter::parse(file, &split)?;
    let Some(id) = map.get("id").and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }) else {
        return Ok(Vec::new());
    };
    // The id names a directory: only a plain name may, never a path.
    if id.is_empty() || id == "." || id == ".." || id.contains(['/', '\\', '\0']) {
        return Ok(Vec::new());
    }
    let Some(root) = path.parent().and_then(Path::parent) else {
        return Ok(Vec::new());
    };
    let dir = root.join("journal").join(&id).join("entries");
    let listing = match std::fs::read_dir(&dir) {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(baton_core::Error::internal(format!(
                "cannot read {}: {e}",
                dir.display()
            )));
        }
    };
    let mut out = Vec::new();
    for item in listing {
        let item = item.map_err(|e| baton_core::Error::internal(format!("cannot read {}: {e}", dir.display())))?;
        let name = item.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".md") {
            continue;
        }
        let bytes = std::fs::read(item.path())
            .map_err(|e| baton_core::Error::internal(format!("cannot read {}: {e}", item.path().display())))?;
        out.push((dir.join(&name).display().to_string(), bytes));
    }
    out.sort();
    Ok(out)
}

/// Reads one journal entry file.
pub fn parse_entry(file: &str, bytes: &[u8]) -> Result<ImportedEntry, Problem> {
    let text = crate::decode(file, bytes)?;
    let split = frontmatter::split(file, &text)?;
    let map = frontmatter::parse(file, &split)?;
    let r = Reader {
        file,
        split: &split,
        path: vec![],
        map: &map,
    };
    let kind_text = r.required_text("kind")?;
    let kind: EntryKind = kind_text.parse().map_err(|_| {
        r.problem(
            "kind",
            "allowed-value",
            format!(
                "unknown entry kind '{kind_text}': expected one of {}",
                EntryKind::accepted()
            ),
        )
    })?;
    let created_at = r.time("created_at", true)?.unwrap_or(Timestamp(0));
    let id = r.text("id")?;
    if let Some(i) = &id
        && baton_core::parse::check_session_id(i).is_err()
    {
        return Err(r.problem("id", "bad-value", format!("entry id '{i}' is not a UUID")));
    }
    let rationale = r.text("rationale")?;
    if rationale.is_some() && kind != EntryKind::Decision {
        return Err(r.problem(
            "rationale",
            "bad-value",
            format!("a {kind} entry has a rationale: only decisions have one"),
        ));
    }
    let body = split.body.strip_prefix('\n').unwrap_or(split.body);
    let body = body.strip_suffix('\n').unwrap_or(body);
    if body.trim().is_empty() {
        return Err(Problem::new(
            file,
            split.body_line - 1,
            "required-section",
            "the entry has no text after the frontmatter that ends on this line",
        ));
    }
    Ok(ImportedEntry {
        id,
        kind,
        text: body.to_string(),
        rationale,
        created_at,
    })
}

/// Reads a sessions document (and its journal entry files) into a session to import.
pub fn parse(file: &str, text_in: &str, journal_files: &[(String, Vec<u8>)]) -> Result<ImportedSession, Problem> {
    let split = frontmatter::split(file, text_in)?;
    let map = frontmatter::parse(file, &split)?;
    let r = Reader {
        file,
        split: &split,
        path: vec![],
        map: &map,
    };
    let raw_id = r.required_text("id")?;
    let shortname = r.required_text("shortname")?;
    let status_text = r.required_text("status")?;
    let status: SessionStatus = status_text.parse().map_err(|_| {
        r.problem(
            "status",
            "allowed-value",
            format!(
                "unknown status '{status_text}': expected one of {}",
                SessionStatus::accepted()
            ),
        )
    })?;
    let task_ids = r.texts("task_ids")?;
    let created = r.time("created_at", true)?.unwrap_or(Timestamp(0));
    let updated = r.time("updated_at", true)?.unwrap_or(created).max(created);
    let compaction_count = r.integer("compaction_count")?.unwrap_or(0);
    let git_branch = r.text("git_branch")?;
    let git_commit = r.text("git_last_commit")?;
    let agent = r.text("agent")?;
    let role = r.text("role")?;
    let ended_at = r.time("ended_at", false)?;
    let front_summary = r.text("summary")?;
    let handoff = r.handoff("handoff")?;
    let unknown = r.unknown(KNOWN_KEYS);

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

    let mut journal = Journal::default();
    for (name, bytes) in journal_files {
        journal.push(parse_entry(name, bytes)?);
    }
    let h = handoff.as_ref();
    for (name, kind) in [
        ("Progress", EntryKind::Progress),
        ("Decisions", EntryKind::Decision),
        ("Discoveries", EntryKind::Discovery),
        ("Blockers", EntryKind::Blocker),
        ("Next Steps", EntryKind::Next),
    ] {
        if let Some(sec) = body.section(name) {
            for item in markdown::items(&sec.lines).0 {
                journal.add_item(&item, kind, updated, h);
            }
        }
    }
    let mut tldr_summary = Vec::new();
    if let Some(sec) = body.section("TL;DR") {
        let (items, prose) = markdown::items(&sec.lines);
        for mut item in items {
            if let Some(first) = item.lines.first_mut()
                && let Some(stripped) = first.strip_suffix(CURRENT)
            {
                *first = stripped.to_string();
            }
            let kind = if item.checked == Some(true) {
                EntryKind::Done
            } else {
                EntryKind::Next
            };
            journal.add_item(&item, kind, updated, h);
        }
        let mut blocker: Option<(usize, Vec<String>)> = None;
        for (n, line) in &prose {
            if let Some((last, lines)) = blocker.as_mut()
                && *n == *last + 1
            {
                lines.push(line.clone());
                *last = *n;
                continue;
            }
            if let Some(rest) = line.strip_prefix("Blocker:") {
                blocker = Some((*n, vec![rest.strip_prefix(' ').unwrap_or(rest).to_string()]));
            } else if !line.starts_with("Progress:") && blocker.is_none() {
                tldr_summary.push(line.clone());
            }
        }
        if let Some((n, lines)) = blocker {
            let item = markdown::Item {
                line: n,
                checked: None,
                lines,
            };
            if text::decode_text(&item.lines) != "none" {
                journal.add_item(&item, EntryKind::Blocker, updated, h);
            }
        }
    }
    let entries = journal.finish();
    let summary = front_summary.or_else(|| {
        let s = text::decode_text(&tldr_summary);
        (!s.is_empty()).then_some(s)
    });
    let context = body.section("Context").and_then(|s| {
        let lines = markdown::text_lines(&s.lines);
        (!markdown::is_none(&lines)).then(|| text::decode_text(&lines))
    });
    let name = if baton_core::parse::check_id("session name", &shortname).is_ok() {
        shortname
    } else {
        text::slugify(&shortname)
    };
    let id = baton_core::parse::check_session_id(&raw_id)
        .is_ok()
        .then(|| raw_id.clone());
    let mut document = Map::new();
    if !unknown.is_empty() {
        document.insert("frontmatter".into(), Value::Object(unknown));
    }
    Ok(ImportedSession {
        id,
        key: format!("sessions:{raw_id}"),
        agent,
        name: Some(name),
        role,
        context,
        task_ids,
        status,
        git_branch,
        git_commit,
        created_at: created,
        updated_at: updated,
        ended_at: if status.is_ended() {
            ended_at.or(Some(updated))
        } else {
            None
        },
        compaction_count,
        summary,
        handoff,
        entries,
        layout: "sessions".to_string(),
        source: file.to_string(),
        document: if document.is_empty() {
            Value::Null
        } else {
            Value::Object(document)
        },
    })
}
