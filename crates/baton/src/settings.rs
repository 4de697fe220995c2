//! Merges flags, environment and config files once, then opens the store.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use baton_core::config::{ConfigFile, DocsConfig, Policy, baton_home, store_options, user_config_path};
use baton_core::project::GitInfo;
use baton_core::store::StoreOptions;
use baton_core::words::{CommandLine, Words};
use baton_core::{Baton, Caller, Error, Project, Result, Warning};
use baton_docs::{Follower, Layout};

use crate::cli::GlobalArgs;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Everything a command needs: the core API and who is calling.
pub struct Context {
    pub baton: Baton,
    pub caller: Caller,
    /// The `[docs]` config: whether and how session documents are re-rendered after changes.
    pub docs: DocsConfig,
    /// The project key was named by `--project` or `BATON_PROJECT` (not found from git or the config).
    pub project_explicit: bool,
}

impl Context {
    /// The top of the working tree (documents are written relative to it), else the current directory.
    pub fn docs_root(&self) -> Result<PathBuf> {
        match &self.caller.project.git {
            Some(g) => Ok(g.worktree.clone()),
            None => {
                std::env::current_dir().map_err(|e| Error::internal(format!("cannot read the current directory: {e}")))
            }
        }
    }

    /// The document layout asked for, else the config's, else `baton`.
    pub fn docs_layout(&self, asked: Option<&str>) -> Result<Layout> {
        match asked.or(self.docs.layout.as_deref()) {
            Some(l) => l.parse(),
            None => Ok(Layout::Baton),
        }
    }

    /// With `docs.auto`, session documents follow every change this process commits, whichever front end
    /// made it. A problem is a warning: documents never make a command fail.
    fn follow_documents(&mut self) {
        if self.docs.auto != Some(true) {
            return;
        }
        let follower = self
            .docs_layout(None)
            .and_then(|layout| Ok(Follower::new(self.docs_root()?, layout, self.caller.clone())));
        match follower {
            Ok(f) => self.baton.observe(Arc::new(f)),
            Err(e) => eprintln!("warning: session documents not rendered: {e}"),
        }
    }

    /// Says on stderr when the project named by `--project`/`BATON_PROJECT` is new to the store. Called only
    /// where the answer already shows the project empty, so other calls read nothing more; a failure to
    /// tell is no failure of the command.
    pub fn warn_if_unknown_project(&self, except_session: Option<&str>) {
        if let Some(w) = self.unknown_project(except_session) {
            eprintln!("warning: {}", CommandLine.warning(&w));
        }
    }

    /// The warning [`Context::warn_if_unknown_project`] prints, for answers that carry their warnings.
    pub fn unknown_project(&self, except_session: Option<&str>) -> Option<Warning> {
        if !self.project_explicit {
            return None;
        }
        self.baton.unknown_project(&self.caller, except_session).ok().flatten()
    }
}

/// Resolves settings (flags over env over repo config over user config) and opens the store.
pub fn load(global: &GlobalArgs) -> Result<Context> {
    let cwd =
        std::env::current_dir().map_err(|e| Error::internal(format!("cannot read the current directory: {e}")))?;
    load_in(global, &cwd, None, None)
}

/// Like [`load`], for a given directory, waiting at most `max_wait` for a lock (hooks have a deadline).
///
/// `client_agent` is the agent name of a coding client's hooks: only `--agent` overrides it, so that the
/// hooks, the MCP server `baton setup` installs (`--agent <client>`) and the agent's own commands (which
/// name the session, whose agent they then take) agree on one name whatever the config says.
pub fn load_in(
    global: &GlobalArgs,
    cwd: &Path,
    client_agent: Option<&str>,
    max_wait: Option<Duration>,
) -> Result<Context> {
    let cwd = cwd.to_path_buf();
    let user = match user_config_path() {
        Some(p) => ConfigFile::load(&p)?,
        None => ConfigFile::default(),
    };
    // The repo config sits at the top of the working tree (or in the directory, outside git).
    let git = GitInfo::discover(&cwd);
    let top = git.as_ref().map(|g| g.worktree.clone()).unwrap_or_else(|| cwd.clone());
    let repo_cfg = ConfigFile::load(&top.join(".baton/config.toml"))?;
    let cfg = user.overlay(repo_cfg);

    let explicit_project = global.project.clone().or_else(|| env("BATON_PROJECT"));
    let project_explicit = explicit_project.is_some();
    let project_key = explicit_project.or(cfg.project.clone());
    if let Some(k) = &project_key
        && (k.trim().is_empty() || k.len() > 1000)
    {
        return Err(Error::bad_input(format!(
            "invalid project '{k}': expected a non-empty key of at most 1000 characters"
        )));
    }
    let project = Project::resolve(&cwd, git, project_key.as_deref());
    let explicit_agent = match client_agent {
        Some(client) => Some(global.agent.clone().unwrap_or_else(|| client.to_string())),
        None => global.agent.clone().or_else(|| env("BATON_AGENT")),
    };
    let agent = explicit_agent
        .clone()
        .or(cfg.agent.clone())
        .or_else(|| env("USER"))
        .unwrap_or_else(|| "user".to_string());
    baton_core::parse::check_id("agent", &agent)?;
    let session = global.session.clone().or_else(|| env("BATON_SESSION"));
    if let Some(s) = &session {
        baton_core::parse::check_session_id(s)?;
    }
    let policy = Policy::from_config(&cfg)?;
    let url = global
        .database_url
        .clone()
        .or_else(|| env("BATON_DATABASE_URL"))
        .or(cfg.database_url.clone());
    let mut options = match env("BATON_LOCK_TIMEOUT") {
        Some(v) => store_options(Some(&v), "BATON_LOCK_TIMEOUT")?,
        None => store_options(cfg.lock_timeout.as_deref(), "config lock_timeout")?,
    };
    if let Some(cap) = max_wait {
        options.lock_timeout = options.lock_timeout.min(cap);
    }
    let store = open_store(url.as_deref(), &options)?;
    let baton = Baton::new(store, policy);
    // A command that names its session acts as that session's agent unless told otherwise.
    let agent = match (&explicit_agent, &session) {
        (None, Some(id)) => baton.session_agent(id)?.unwrap_or(agent),
        _ => agent,
    };
    let mut ctx = Context {
        baton,
        docs: cfg.docs.clone().unwrap_or_default(),
        project_explicit,
        caller: Caller {
            project,
            agent,
            session: session.map(Into::into),
        },
    };
    ctx.follow_documents();
    Ok(ctx)
}

/// Opens PostgreSQL for a `postgres://` URL, else the embedded SQLite file.
pub fn open_store(url: Option<&str>, options: &StoreOptions) -> Result<Box<dyn baton_core::store::Store>> {
    match url {
        Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
            Ok(Box::new(baton_postgres::PgStore::open_with(u, options)?))
        }
        Some(u) if u.starts_with("sqlite:") => {
            let path = u.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
            Ok(Box::new(baton_sqlite::SqliteStore::open_with(
                Path::new(path),
                options,
            )?))
        }
        Some(u) => {
            let scheme = u.split_once(':').map(|(s, _)| s).unwrap_or(u);
            Err(Error::bad_input(format!(
                "unsupported database URL scheme '{scheme}': expected postgres://USER@HOST:PORT/DB or sqlite:PATH"
            )))
        }
        None => {
            let home = baton_home(env("BATON_HOME").as_deref())?;
            Ok(Box::new(baton_sqlite::SqliteStore::open_with(
                &home.join("baton.db"),
                options,
            )?))
        }
    }
}
