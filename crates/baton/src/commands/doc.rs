//! `baton doc render|lint|import`, and the re-rendering of documents after commands when `docs.auto` is set.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use baton_core::import::DocumentSource;
use baton_core::{Baton, Caller, ChangesRequest, Error, Result};
use baton_docs::{Layout, Problem, Written};
use serde_json::json;

use crate::cli::{Command, DocCommand, DocImportArgs, DocLintArgs, DocRenderArgs, SessionCommand};
use crate::output::{print_json, println_out};
use crate::settings::Context;

pub fn run(ctx: &Context, json: bool, cmd: DocCommand) -> Result<i32> {
    match cmd {
        DocCommand::Render(a) => render(ctx, json, a),
        DocCommand::Lint(a) => lint(ctx, json, a),
        DocCommand::Import(a) => import(ctx, json, a),
    }
}

/// The top of the working tree (documents are written relative to it), else the current directory.
fn root(ctx: &Context) -> Result<PathBuf> {
    match &ctx.caller.project.git {
        Some(g) => Ok(g.worktree.clone()),
        None => std::env::current_dir().map_err(|e| Error::internal(format!("cannot read the current directory: {e}"))),
    }
}

/// The layout asked for, else the config's, else `baton`.
fn layout(ctx: &Context, asked: Option<&str>) -> Result<Layout> {
    match asked.or(ctx.docs.layout.as_deref()) {
        Some(l) => l.parse(),
        None => Ok(Layout::Baton),
    }
}

/// Renders and writes the documents of `sources`.
fn write_all(root: &Path, layout: Layout, sources: &[DocumentSource]) -> Result<Vec<Written>> {
    let mut written = Vec::new();
    for src in sources {
        let rendered = baton_docs::render(layout, src);
        let w = baton_docs::write_rendered(root, &rendered).map_err(|e| {
            Error::internal(format!(
                "cannot write the documents of session {} under {}: {e}",
                rendered.session_id,
                root.display()
            ))
        })?;
        for skipped in w.iter().filter(|w| w.action == "skipped") {
            eprintln!(
                "warning: {} holds the document of session {}; session {} was not written there",
                skipped.path.display(),
                skipped.other_session.as_deref().unwrap_or("?"),
                skipped.session_id
            );
        }
        written.extend(w);
    }
    Ok(written)
}

fn render(ctx: &Context, json: bool, a: DocRenderArgs) -> Result<i32> {
    let layout = layout(ctx, a.layout.as_deref())?;
    let (b, caller) = (&ctx.baton, &ctx.caller);
    let sources = if a.all {
        b.document_sources(caller)?
    } else {
        let id = match a.id {
            Some(id) => id,
            None => b.view(caller, None)?.session.id,
        };
        vec![b.document_source(caller, &id)?]
    };
    let root = root(ctx)?;
    let written = write_all(&root, layout, &sources)?;
    if json {
        print_json(&json!({
            "layout": layout, "root": root.display().to_string(), "sessions": sources.len(), "files": written,
        }))?;
        return Ok(0);
    }
    let changed = written.iter().filter(|w| w.action != "unchanged").count();
    let mut text = format!(
        "Rendered {} session{} in the {layout} layout under {}: {changed} file{} changed, {} unchanged.",
        sources.len(),
        plural(sources.len()),
        root.display(),
        plural(changed),
        written.len() - changed
    );
    for w in written.iter().filter(|w| w.action != "unchanged") {
        text.push_str(&format!("\n  {:<9} {}", w.action, w.path.display()));
    }
    println_out(&text)?;
    Ok(0)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// How a path is shown: relative to the current directory when it is under it.
fn shown(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    path.strip_prefix(&cwd).unwrap_or(path).display().to_string()
}

/// The `.md` files of `paths` (a directory stands for its `.md` files, not recursively), sorted per directory.
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::not_found(format!("no such file or directory: {}", p.display())),
            _ => Error::internal(format!("cannot read {}: {e}", p.display())),
        })?;
        if !meta.is_dir() {
            out.push(p.clone());
            continue;
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(p)
            .map_err(|e| Error::internal(format!("cannot read {}: {e}", p.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|f| f.extension().is_some_and(|x| x == "md") && f.is_file())
            .collect();
        files.sort();
        out.extend(files);
    }
    Ok(out)
}

fn lint(ctx: &Context, json: bool, a: DocLintArgs) -> Result<i32> {
    let paths = if a.paths.is_empty() {
        let dir = root(ctx)?.join(baton_docs::agents::DIR);
        if dir.is_dir() { vec![dir] } else { vec![] }
    } else {
        a.paths.clone()
    };
    let files = expand(&paths)?;
    let mut problems: Vec<Problem> = Vec::new();
    for f in &files {
        let bytes = std::fs::read(f).map_err(|e| Error::internal(format!("cannot read {}: {e}", f.display())))?;
        problems.extend(baton_docs::lint_text(&shown(f), &bytes));
    }
    let code = if problems.is_empty() { 0 } else { 2 };
    if json {
        print_json(&json!({"files_checked": files.len(), "problems": problems}))?;
        return Ok(code);
    }
    let mut text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    text.push(match (files.len(), problems.len()) {
        (0, _) => format!(
            "No documents to lint (looked in {}).",
            paths
                .first()
                .map(|p| shown(p))
                .unwrap_or_else(|| baton_docs::agents::DIR.to_string())
        ),
        (n, 0) => format!("{n} document{} checked: no problems.", plural(n)),
        (n, p) => format!("{n} document{} checked: {p} problem{}.", plural(n), plural(p)),
    });
    println_out(&text.join("\n"))?;
    Ok(code)
}

fn import(ctx: &Context, json: bool, a: DocImportArgs) -> Result<i32> {
    let layout = a.layout.as_deref().map(str::parse::<Layout>).transpose()?;
    let files = expand(&a.paths)?;
    if files.is_empty() {
        return Err(Error::bad_input(format!(
            "no documents to import in {}: expected .md files of the agents or sessions layout",
            a.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    // Every document is read before anything is written: one malformed file imports nothing.
    let mut docs = Vec::with_capacity(files.len());
    for f in &files {
        let mut doc = baton_docs::read_document(f, layout)?;
        doc.source = shown(f);
        docs.push(doc);
    }
    let mut outcomes = Vec::with_capacity(docs.len());
    for doc in docs {
        outcomes.push(ctx.baton.import_session(&ctx.caller, doc)?);
    }
    if json {
        print_json(&json!({"sessions": outcomes}))?;
        return Ok(0);
    }
    let new = outcomes.iter().filter(|o| o.imported).count();
    let mut text = format!(
        "Imported {new} session{} ({} already there).",
        plural(new),
        outcomes.len() - new
    );
    for o in &outcomes {
        let what = if o.imported {
            format!("imported  {} ({} entries)", o.session_id, o.entries)
        } else {
            format!("unchanged {} (imported before)", o.session_id)
        };
        text.push_str(&format!("\n  {what}  {}", o.source));
    }
    println_out(&text)?;
    Ok(0)
}

/// Keeps session documents up to date as changes come in, when `docs.auto` is set: the CLI around each command
/// that can change a session, the MCP server after each tool call, a hook after its answer.
pub struct DocsFollower {
    root: PathBuf,
    layout: Layout,
    /// The newest event whose session's documents are rendered.
    after_seq: Mutex<i64>,
}

impl DocsFollower {
    /// Starts following from the newest event, or `None` when `docs.auto` is off. Problems are warnings:
    /// documents never make a command fail.
    pub fn start(ctx: &Context) -> Option<DocsFollower> {
        if ctx.docs.auto != Some(true) {
            return None;
        }
        let started = layout(ctx, None).and_then(|layout| {
            let root = root(ctx)?;
            let after_seq = baton_core::store::read(ctx.baton.store(), |tx| tx.last_seq())?;
            Ok(DocsFollower {
                root,
                layout,
                after_seq: Mutex::new(after_seq),
            })
        });
        match started {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!("warning: session documents not rendered: {e}");
                None
            }
        }
    }

    /// Re-renders the documents of every session with events since the last call, and moves past them.
    pub fn catch_up(&self, baton: &Baton, caller: &Caller) {
        // One at a time: two calls rendering at once could write an older document over a newer one.
        let mut after_seq = self.after_seq.lock().unwrap_or_else(|e| e.into_inner());
        match self.rerender_since(baton, caller, *after_seq) {
            Ok(newest) => *after_seq = newest,
            Err(e) => eprintln!("warning: the command succeeded, but its session documents were not rendered: {e}"),
        }
    }

    /// Renders the sessions with events after `after_seq`; returns the newest event seen.
    fn rerender_since(&self, baton: &Baton, caller: &Caller, after_seq: i64) -> Result<i64> {
        let mut ids: Vec<String> = Vec::new();
        let mut since = after_seq;
        loop {
            let page = baton.changes(
                caller,
                &ChangesRequest {
                    since: Some(since.to_string()),
                    limit: Some(1000),
                    ..Default::default()
                },
            )?;
            for e in &page.events {
                if let Some(id) = &e.session_id
                    && !ids.contains(id)
                {
                    ids.push(id.clone());
                }
            }
            since = page.next_cursor;
            if !page.more {
                break;
            }
        }
        if !ids.is_empty() {
            let sources = ids
                .iter()
                .map(|id| baton.document_source(caller, id))
                .collect::<Result<Vec<_>>>()?;
            write_all(&self.root, self.layout, &sources)?;
        }
        Ok(since)
    }
}

/// Whether `command` can change a session.
fn changes_sessions(command: &Command) -> bool {
    match command {
        Command::Session(c) => !matches!(c, SessionCommand::View(_) | SessionCommand::List(_)),
        Command::Claim(_) | Command::Release(_) | Command::Heartbeat => true,
        // A sweep pauses stale sessions.
        Command::Doctor(a) => a.sweep,
        _ => false,
    }
}

/// Notes where the event log stands before `command`, when `docs.auto` is on and the command can change a session.
pub fn auto_render_mark(ctx: &Context, command: &Command) -> Option<DocsFollower> {
    if !changes_sessions(command) {
        return None;
    }
    DocsFollower::start(ctx)
}

/// After a successful command: re-renders the documents of every session whose events came after the mark.
pub fn auto_render(ctx: &Context, mark: Option<DocsFollower>, result: &Result<i32>) {
    if let (Some(mark), Ok(_)) = (mark, result) {
        mark.catch_up(&ctx.baton, &ctx.caller);
    }
}
