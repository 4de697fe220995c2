//! Which one-line notices a session has already been shown, so none is shown twice.
//!
//! Kept in a small file per baton session under `$BATON_HOME/hooks/`: notices belong to one
//! client conversation on one machine, not to the shared store.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The notices shown to one session.
pub struct Seen {
    path: PathBuf,
    keys: HashSet<String>,
}

impl Seen {
    /// Loads the keys shown to `session_id`; a missing or unreadable file is an empty set.
    pub fn load(dir: &Path, session_id: &str) -> Seen {
        let path = dir.join(format!("{session_id}.seen"));
        let keys = std::fs::read_to_string(&path)
            .map(|t| t.lines().map(str::to_string).collect())
            .unwrap_or_default();
        Seen { path, keys }
    }

    pub fn contains(&self, key: &str) -> bool {
        self.keys.contains(key)
    }

    /// Records a key; losing the record only risks showing the notice once more.
    pub fn mark(&mut self, key: &str) {
        if !self.keys.insert(key.to_string()) {
            return;
        }
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let line = format!("{}\n", key.replace('\n', " "));
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(&self.path) {
            let _ = f.write_all(line.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_across_loads() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Seen::load(dir.path(), "s1");
        assert!(!s.contains("a"));
        s.mark("a");
        s.mark("a");
        let s2 = Seen::load(dir.path(), "s1");
        assert!(s2.contains("a"));
        assert_eq!(std::fs::read_to_string(dir.path().join("s1.seen")).unwrap(), "a\n");
        assert!(!Seen::load(dir.path(), "s2").contains("a"));
    }
}
