//! Writing rendered documents: atomically (a temporary file renamed over the old one), and only when the
//! content changed, so that unchanged files keep their times and a reader never sees half a file.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use baton_core::import::DocumentSource;

use crate::{Layout, Rendered};

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Written {
    /// Relative to the repository's top.
    pub path: PathBuf,
    pub session_id: String,
    /// `written`, `unchanged`, `removed`, or `skipped` when the file holds another session's document.
    pub action: &'static str,
    /// For `skipped`: the session whose document is there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_session: Option<String>,
}

/// The session id a document's frontmatter names (`id`, or `session.id`), if any.
fn owner(content: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(content).ok()?;
    let split = crate::frontmatter::split("", text).ok()?;
    let map = crate::frontmatter::parse("", &split).ok()?;
    let id = map.get("id").or_else(|| map.get("session").and_then(|s| s.get("id")))?;
    id.as_str().map(str::to_string)
}

/// Writes a session's files under `root` and removes its obsolete ones. A file that holds another session's
/// document (two sessions started in the same second under the same name) is left alone and reported.
pub fn write_rendered(root: &Path, rendered: &Rendered) -> std::io::Result<Vec<Written>> {
    let mut out = Vec::new();
    let report = |path: &Path, action, other_session| Written {
        path: path.to_path_buf(),
        session_id: rendered.session_id.clone(),
        action,
        other_session,
    };
    for (i, doc) in rendered.files.iter().enumerate() {
        let full = root.join(&doc.path);
        let old = std::fs::read(&full).ok();
        // Only a session's main document can share a name with another's; the rest live under its id.
        let other = old.as_deref().filter(|_| i == 0).and_then(owner);
        if let Some(other) = other.filter(|o| *o != rendered.session_id) {
            out.push(report(&doc.path, "skipped", Some(other)));
            continue;
        }
        let unchanged = old.is_some_and(|old| old == doc.content.as_bytes());
        if !unchanged {
            write_atomic(&full, doc.content.as_bytes())?;
        }
        out.push(report(&doc.path, if unchanged { "unchanged" } else { "written" }, None));
    }
    for path in &rendered.obsolete {
        match std::fs::remove_file(root.join(path)) {
            Ok(()) => out.push(report(path, "removed", None)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Renders the documents of `sources` in `layout` and writes them under `root`; each file left alone because
/// it holds another session's document is reported to `warn`.
pub fn write_sources(
    root: &Path,
    layout: Layout,
    sources: &[DocumentSource],
    warn: &mut dyn FnMut(&str),
) -> baton_core::Result<Vec<Written>> {
    let mut written = Vec::new();
    for src in sources {
        let rendered = crate::render(layout, src);
        let w = write_rendered(root, &rendered).map_err(|e| {
            baton_core::Error::internal(format!(
                "cannot write the documents of session {} under {}: {e}",
                rendered.session_id,
                root.display()
            ))
        })?;
        for skipped in w.iter().filter(|w| w.action == "skipped") {
            warn(&format!(
                "{} holds the document of session {}; session {} was not written there",
                skipped.path.display(),
                skipped.other_session.as_deref().unwrap_or("?"),
                skipped.session_id
            ));
        }
        written.extend(w);
    }
    Ok(written)
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Document;

    #[test]
    fn writes_only_changes_and_removes_obsolete() {
        let dir = tempfile::tempdir().unwrap();
        let r = Rendered {
            session_id: "s".into(),
            files: vec![Document {
                path: PathBuf::from("a/b.md"),
                content: "one\n".into(),
            }],
            obsolete: vec![PathBuf::from("a/old.md")],
        };
        std::fs::create_dir_all(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("a/old.md"), "x").unwrap();
        let w = write_rendered(dir.path(), &r).unwrap();
        assert_eq!(w.iter().map(|w| w.action).collect::<Vec<_>>(), ["written", "removed"]);
        assert_eq!(std::fs::read_to_string(dir.path().join("a/b.md")).unwrap(), "one\n");
        let w = write_rendered(dir.path(), &r).unwrap();
        assert_eq!(w.iter().map(|w| w.action).collect::<Vec<_>>(), ["unchanged"]);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("a")).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary files left behind");
    }

    #[test]
    fn never_overwrites_another_sessions_document() {
        let dir = tempfile::tempdir().unwrap();
        let doc = |id: &str| Rendered {
            session_id: id.into(),
            files: vec![Document {
                path: PathBuf::from("x.md"),
                content: format!("---\nsession:\n  id: {id}\n---\n"),
            }],
            obsolete: vec![],
        };
        assert_eq!(write_rendered(dir.path(), &doc("one")).unwrap()[0].action, "written");
        let w = write_rendered(dir.path(), &doc("two")).unwrap();
        assert_eq!((w[0].action, w[0].other_session.as_deref()), ("skipped", Some("one")));
        assert!(
            std::fs::read_to_string(dir.path().join("x.md"))
                .unwrap()
                .contains("id: one")
        );
        // A file without an id (hand-written, or imported already) is the view's to replace.
        std::fs::write(dir.path().join("x.md"), "# notes\n").unwrap();
        assert_eq!(write_rendered(dir.path(), &doc("two")).unwrap()[0].action, "written");
    }
}
