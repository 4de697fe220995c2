//! Documents that follow changes (`[docs] auto = true`): an observer of commits that re-renders the
//! documents of the sessions each commit touched.

use std::path::PathBuf;
use std::sync::Mutex;

use baton_core::{Baton, Caller, Commit, CommitObserver, Error, Result};

use crate::{Layout, write_sources};

/// Re-renders, after each commit, the documents of the sessions of one project that the commit's events name.
pub struct Follower {
    root: PathBuf,
    layout: Layout,
    /// Whose project is followed; the sessions are read as this caller.
    reader: Caller,
    /// Held while a render reads and writes: two commits rendering at once could write the older state last.
    rendering: Mutex<()>,
}

impl Follower {
    /// Follows the sessions of `reader`'s project, writing their documents under `root` in `layout`.
    pub fn new(root: PathBuf, layout: Layout, reader: Caller) -> Follower {
        Follower {
            root,
            layout,
            reader,
            rendering: Mutex::new(()),
        }
    }

    fn render(&self, baton: &Baton, ids: &[&str]) -> Result<()> {
        let sources = ids
            .iter()
            .map(|id| baton.document_source(&self.reader, id))
            .collect::<Result<Vec<_>>>()?;
        write_sources(&self.root, self.layout, &sources, &mut |w| baton.warn(w))?;
        Ok(())
    }
}

impl CommitObserver for Follower {
    fn committed(&self, baton: &Baton, commit: &Commit<'_>) -> Result<()> {
        let project = &self.reader.project.key;
        let mut ids: Vec<&str> = Vec::new();
        for e in commit.events.iter().filter(|e| &e.project == project) {
            if let Some(id) = e.session_id.as_deref()
                && !ids.contains(&id)
            {
                ids.push(id);
            }
        }
        // What `.baton/context.yaml` shows: interfaces, decisions and requests.
        let shared = commit.events.iter().filter(|e| &e.project == project).any(|e| {
            e.kind.starts_with("interface.") || e.kind.starts_with("request.") || e.kind == "journal.decision"
        });
        if shared {
            let _one = self.rendering.lock().unwrap_or_else(|e| e.into_inner());
            let c = baton.team_context(&self.reader)?;
            crate::write_team_context(&self.root, &c).map_err(|e| {
                Error::internal(format!(
                    "the command succeeded, but {} was not written: {e}",
                    crate::CONTEXT_FILE
                ))
            })?;
        }
        if ids.is_empty() {
            return Ok(());
        }
        // Each render reads the store after taking the lock, so the last one written shows the newest state.
        let _one = self.rendering.lock().unwrap_or_else(|e| e.into_inner());
        self.render(baton, &ids).map_err(|e| {
            Error::internal(format!(
                "the command succeeded, but its session documents were not rendered: {e}"
            ))
        })
    }
}
