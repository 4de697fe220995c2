//! Writing rendered documents: atomically (a temporary file renamed over the old one), and only when the
//! content changed, so that unchanged files keep their times and a reader never sees half a file.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::Rendered;

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Written {
    /// Relative to the repository's top.
    pub path: PathBuf,
    pub session_id: String,
    /// `written`, `unchanged` or `removed`.
    pub action: &'static str,
}

/// Writes a session's files under `root` and removes its obsolete ones.
pub fn write_rendered(root: &Path, rendered: &Rendered) -> std::io::Result<Vec<Written>> {
    let mut out = Vec::new();
    for doc in &rendered.files {
        let full = root.join(&doc.path);
        let unchanged = std::fs::read(&full).is_ok_and(|old| old == doc.content.as_bytes());
        if !unchanged {
            write_atomic(&full, doc.content.as_bytes())?;
        }
        out.push(Written {
            path: doc.path.clone(),
            session_id: rendered.session_id.clone(),
            action: if unchanged { "unchanged" } else { "written" },
        });
    }
    for path in &rendered.obsolete {
        match std::fs::remove_file(root.join(path)) {
            Ok(()) => out.push(Written {
                path: path.clone(),
                session_id: rendered.session_id.clone(),
                action: "removed",
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
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
}
