//! `baton doc render|lint|import`.

use std::path::{Path, PathBuf};

use baton_core::{Error, Result};
use baton_docs::{Layout, Problem};
use serde_json::json;

use crate::cli::{DocCommand, DocImportArgs, DocLintArgs, DocRenderArgs};
use crate::output::{print_json, println_out};
use crate::settings::Context;

pub fn run(ctx: &Context, json: bool, cmd: DocCommand) -> Result<i32> {
    match cmd {
        DocCommand::Render(a) => render(ctx, json, a),
        DocCommand::Lint(a) => lint(ctx, json, a),
        DocCommand::Import(a) => import(ctx, json, a),
    }
}

fn render(ctx: &Context, json: bool, a: DocRenderArgs) -> Result<i32> {
    let layout = ctx.docs_layout(a.layout.as_deref())?;
    let (b, caller) = (&ctx.baton, &ctx.caller);
    let sources = if a.all {
        b.document_sources(caller)?
    } else {
        let id = match a.id {
            Some(id) => id,
            None => b.view(caller, None)?.session.id.into_string(),
        };
        vec![b.document_source(caller, &id)?]
    };
    let root = ctx.docs_root()?;
    let written = baton_docs::write_sources(&root, layout, &sources, &mut |w| eprintln!("warning: {w}"))?;
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
        let dir = ctx.docs_root()?.join(baton_docs::agents::DIR);
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
