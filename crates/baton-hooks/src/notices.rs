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

/// What the model is to be told with the next prompt, for events whose answer the client shows only to the
/// person (Stop, PreCompact, PostCompact): kept in `<session>.pending` beside the notices.
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Pending {
    /// The conversation was compacted and no SessionStart has given the context back yet.
    #[serde(default)]
    pub compacted: bool,
    /// The situation of the last Stop reminder shown to the person, passed on while it still holds.
    #[serde(default)]
    pub stop: Option<String>,
    /// When a tool hook last told of new messages (microseconds), so a busy tool loop is told at most once a
    /// minute; a prompt is always told.
    #[serde(default)]
    pub told_at: Option<i64>,
    /// The reason of the stop a hook held last: Gemini CLI sends it back as the next prompt, which is then
    /// baton's own words, not the person's.
    #[serde(default)]
    pub held: Option<String>,
}

impl Pending {
    fn path(dir: &Path, session_id: &str) -> PathBuf {
        dir.join(format!("{session_id}.pending"))
    }

    /// What is waiting for `session_id`; a missing or unreadable file is nothing.
    pub fn load(dir: &Path, session_id: &str) -> Pending {
        std::fs::read_to_string(Self::path(dir, session_id))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    /// Takes what is waiting, leaving nothing behind.
    pub fn take(dir: &Path, session_id: &str) -> Pending {
        let p = Self::load(dir, session_id);
        let _ = std::fs::remove_file(Self::path(dir, session_id));
        p
    }

    pub fn is_empty(&self) -> bool {
        !self.compacted && self.stop.is_none() && self.told_at.is_none() && self.held.is_none()
    }

    /// Writes it whole (to a temporary file renamed into place); losing it only loses a reminder.
    pub fn save(&self, dir: &Path, session_id: &str) {
        let path = Self::path(dir, session_id);
        if self.is_empty() {
            let _ = std::fs::remove_file(path);
            return;
        }
        let _ = std::fs::create_dir_all(dir);
        let tmp = dir.join(format!("{session_id}.pending.{}", std::process::id()));
        if let Ok(text) = serde_json::to_string(self)
            && std::fs::write(&tmp, text).is_ok()
        {
            let _ = std::fs::rename(&tmp, &path);
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

    #[test]
    fn pending_is_kept_until_taken_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = Pending::load(dir.path(), "s1");
        assert!(p.is_empty());
        p.stop = Some("stop:claims:x".into());
        p.compacted = true;
        p.save(dir.path(), "s1");
        assert_eq!(Pending::load(dir.path(), "s1"), p);
        let got = Pending::take(dir.path(), "s1");
        assert_eq!(got, p);
        assert!(Pending::take(dir.path(), "s1").is_empty());
        assert!(!dir.path().join("s1.pending").exists());
    }
}
