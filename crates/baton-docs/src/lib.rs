//! Session documents: the readable, committable markdown view of baton's sessions.
//!
//! The database is the truth. [`render`] turns a session (as [`baton_core::import::DocumentSource`]) into
//! files of one of three layouts, deterministically: the same store state gives byte-identical files.
//! [`parse_document`] reads files of the `agents` and `sessions` layouts back into
//! [`baton_core::import::ImportedSession`]s, so teams that already keep such files can move in; a file
//! baton rendered comes back byte for byte when it is imported and rendered again. [`lint`] checks files
//! of the `agents` layout. A [`Follower`] keeps the documents up to date as changes commit.

pub mod agents;
mod collect;
mod follow;
pub mod frontmatter;
pub mod lint;
pub mod markdown;
pub mod native;
pub mod sessions;
mod team;
pub mod text;
pub mod write;

use std::fmt;
use std::path::{Path, PathBuf};

use baton_core::import::{DocumentSource, ImportedSession};
use serde::Serialize;

pub use follow::Follower;
pub use lint::{lint_file, lint_text};
pub use team::{CONTEXT_FILE, parse_team_context, render_team_context, write_team_context};
pub use write::{Written, write_rendered, write_sources};

/// How session documents are laid out on disk (the core's list, so configuration and documents agree).
pub use baton_core::DocLayout as Layout;

/// One file to write, relative to the repository's top.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub path: PathBuf,
    pub content: String,
}

/// The files of one session in one layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub session_id: String,
    pub files: Vec<Document>,
    /// Files this session had in an earlier state that must go (a `sessions` document moves from
    /// `active/` to `archive/` when the session ends).
    pub obsolete: Vec<PathBuf>,
}

/// Renders a session's documents. Pure: no clock, no disk.
pub fn render(layout: Layout, source: &DocumentSource) -> Rendered {
    let session_id = source.context.session.id.clone();
    match layout {
        Layout::Baton => Rendered {
            session_id: session_id.to_string(),
            files: vec![native::render(source)],
            obsolete: vec![],
        },
        Layout::Agents => Rendered {
            session_id: session_id.to_string(),
            files: vec![agents::render(source)],
            obsolete: vec![],
        },
        Layout::Sessions => {
            let (files, obsolete) = sessions::render(source);
            Rendered {
                session_id: session_id.to_string(),
                files,
                obsolete,
            }
        }
    }
}

/// A problem found in a document: where, which rule, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub rule: &'static str,
    pub message: String,
}

impl Problem {
    pub fn new(file: &str, line: usize, rule: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            file: file.to_string(),
            line,
            rule,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {} [{}]", self.file, self.line, self.message, self.rule)
    }
}

impl From<Problem> for baton_core::Error {
    fn from(p: Problem) -> baton_core::Error {
        baton_core::Error::bad_input(p.to_string())
    }
}

/// Reads a document's bytes as text with `\n` line ends; bytes that are not UTF-8 are a problem on their line.
pub fn decode(file: &str, bytes: &[u8]) -> Result<String, Problem> {
    match std::str::from_utf8(bytes) {
        Ok(t) => Ok(t.replace("\r\n", "\n")),
        Err(e) => {
            let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
            Err(Problem::new(
                file,
                line,
                "encoding",
                format!(
                    "the file is not UTF-8 text (invalid byte at offset {})",
                    e.valid_up_to()
                ),
            ))
        }
    }
}

/// Which layout a document is, from its frontmatter: a `session:` mapping means `agents`, `id` and
/// `shortname` mean `sessions`.
pub fn detect_layout(file: &str, text: &str) -> Result<Layout, Problem> {
    let split = frontmatter::split(file, text)?;
    let map = frontmatter::parse(file, &split)?;
    if map.get("session").is_some_and(|v| v.is_object()) {
        Ok(Layout::Agents)
    } else if map.contains_key("shortname") || map.contains_key("id") {
        Ok(Layout::Sessions)
    } else {
        Err(Problem::new(
            file,
            split.yaml_line,
            "layout",
            "cannot tell the document's layout: expected an agents document (a `session:` mapping in its frontmatter) or a sessions document (`id` and `shortname`)",
        ))
    }
}

/// Reads one document (of the `agents` or `sessions` layout, detected unless `layout` says) into a session
/// to import. `file` names it in problems; for a `sessions` document, `journal` holds the files of its
/// `.sessions/journal/<id>/entries/` directory as `(name, bytes)`, when there is one.
pub fn parse_document(
    file: &str,
    bytes: &[u8],
    layout: Option<Layout>,
    journal: &[(String, Vec<u8>)],
) -> Result<ImportedSession, Problem> {
    let text = decode(file, bytes)?;
    let layout = match layout {
        Some(l) => l,
        None => detect_layout(file, &text)?,
    };
    match layout {
        Layout::Agents => agents::parse(file, &text),
        Layout::Sessions => sessions::parse(file, &text, journal),
        Layout::Baton => Err(Problem::new(
            file,
            1,
            "layout",
            "documents of the baton layout are a view of the store and are not imported: import agents or sessions documents",
        )),
    }
}

/// Reads a document from disk, with its journal directory for a `sessions` document.
pub fn read_document(path: &Path, layout: Option<Layout>) -> baton_core::Result<ImportedSession> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => baton_core::Error::not_found(format!("no such document: {file}")),
        _ => baton_core::Error::internal(format!("cannot read {file}: {e}")),
    })?;
    let text = decode(&file, &bytes)?;
    let layout = match layout {
        Some(l) => l,
        None => detect_layout(&file, &text)?,
    };
    let journal = match layout {
        Layout::Sessions => sessions::read_journal(path, &file, &text)?,
        _ => Vec::new(),
    };
    Ok(parse_document(&file, &bytes, Some(layout), &journal)?)
}

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;
