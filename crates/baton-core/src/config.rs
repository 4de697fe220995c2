//! Settings from config files, environment and flags, merged once.
//!
//! Order: flags over environment over `<repo>/.baton/config.toml` over `~/.config/baton/config.toml`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::model::DocLayout;
use crate::parse::{parse_duration, parse_ttl};

/// One config file's contents. Unknown keys are an error, so typos do not pass silently.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub agent: Option<String>,
    pub project: Option<String>,
    pub database_url: Option<String>,
    /// How long an active session may go without a heartbeat before it is stale, like `2h`.
    pub stale_after: Option<String>,
    /// Default lease for claims, like `30m`.
    pub claim_ttl: Option<String>,
    /// Upper bound on a digest's size in characters.
    pub digest_max_chars: Option<usize>,
    /// How long a call waits for a lock held by someone else before it gives up, like `10s`.
    pub lock_timeout: Option<String>,
    /// Work types this project claims besides the built-in ones, like `["epic", "spike"]`.
    pub types: Option<Vec<String>>,
    /// Session documents: `[docs] auto = true, layout = "agents"`.
    pub docs: Option<DocsConfig>,
    /// Session roles besides the built-in ones: `[roles.docs-writer] description = "...", allow = [...]`.
    pub roles: Option<std::collections::BTreeMap<String, RoleConfig>>,
}

/// A `[roles.NAME]` table: what the role is for, and the actions it may take.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleConfig {
    pub description: Option<String>,
    /// The actions sessions with this role may take, like `edit:docs/**`; stored, and enforced by file locks.
    pub allow: Option<Vec<String>>,
}

/// A session role: a built-in one, or one a config defines.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Role {
    pub name: String,
    pub description: String,
    /// The actions sessions with this role may take; empty means no restriction.
    pub allow: Vec<String>,
    /// Defined in a config file rather than built in.
    pub configured: bool,
}

/// The roles every project knows, with what each is for.
pub const BUILT_IN_ROLES: &[(&str, &str)] = &[
    ("implementer", "writes the code for a task"),
    ("reviewer", "reviews changes and answers review requests"),
    ("tester", "writes and runs tests"),
    ("refactorer", "restructures code without changing what it does"),
    ("security", "looks for vulnerabilities and unsafe changes"),
];

/// The `[docs]` table: whether session documents are re-rendered after every change, and in which layout.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocsConfig {
    /// Re-render a session's documents after every command that changed it.
    pub auto: Option<bool>,
    /// `baton` (default), `agents` or `sessions`.
    pub layout: Option<String>,
}

impl DocsConfig {
    /// `other`'s values win where set.
    fn overlay(self, other: DocsConfig) -> DocsConfig {
        DocsConfig {
            auto: other.auto.or(self.auto),
            layout: other.layout.or(self.layout),
        }
    }
}

impl ConfigFile {
    /// Reads a config file; a missing file is an empty config.
    pub fn load(path: &Path) -> Result<ConfigFile> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ConfigFile::default()),
            Err(e) => return Err(Error::internal(format!("cannot read {}: {e}", path.display()))),
        };
        ConfigFile::parse(&text, &path.display().to_string())
    }

    /// Parses a config file's text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<ConfigFile> {
        let cfg: ConfigFile = toml::from_str(text).map_err(|e| {
            Error::bad_input(format!(
                "invalid config file {origin}: {e}accepted keys: agent, project, database_url, stale_after, claim_ttl, digest_max_chars, lock_timeout, types, a [docs] table with auto and layout, and [roles.NAME] tables with description and allow"
            ))
        })?;
        if let Some(layout) = cfg.docs.as_ref().and_then(|d| d.layout.as_deref())
            && let Err(e) = layout.parse::<DocLayout>()
        {
            return Err(e.reworded(|_| {
                format!(
                    "invalid config file {origin}: unknown docs layout '{layout}': expected one of {}",
                    DocLayout::accepted()
                )
            }));
        }
        Ok(cfg)
    }

    /// `other`'s values win where set.
    pub fn overlay(self, other: ConfigFile) -> ConfigFile {
        ConfigFile {
            agent: other.agent.or(self.agent),
            project: other.project.or(self.project),
            database_url: other.database_url.or(self.database_url),
            stale_after: other.stale_after.or(self.stale_after),
            claim_ttl: other.claim_ttl.or(self.claim_ttl),
            digest_max_chars: other.digest_max_chars.or(self.digest_max_chars),
            lock_timeout: other.lock_timeout.or(self.lock_timeout),
            types: other.types.or(self.types),
            docs: match (self.docs, other.docs) {
                (Some(mine), Some(theirs)) => Some(mine.overlay(theirs)),
                (mine, theirs) => theirs.or(mine),
            },
            // A project's roles add to the user's; the project's definition of one name wins.
            roles: match (self.roles, other.roles) {
                (Some(mut mine), Some(theirs)) => {
                    mine.extend(theirs);
                    Some(mine)
                }
                (mine, theirs) => theirs.or(mine),
            },
        }
    }
}

/// The user's config file: `$XDG_CONFIG_HOME/baton/config.toml` or `~/.config/baton/config.toml`.
pub fn user_config_path() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(x).join("baton/config.toml"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/baton/config.toml"))
}

/// Where the embedded database lives: `$BATON_HOME`, else `$XDG_DATA_HOME/baton`, else `~/.local/share/baton`.
pub fn baton_home(env_home: Option<&str>) -> Result<PathBuf> {
    if let Some(h) = env_home.filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(h));
    }
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(x).join("baton"));
    }
    std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".local/share/baton"))
        .ok_or_else(|| Error::internal("cannot find a home for the database: set BATON_HOME or HOME"))
}

/// The rules' tunables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub stale_after_secs: i64,
    pub default_ttl_secs: i64,
    pub digest_max_chars: usize,
    /// Work types claimed without `new_type` besides [`crate::parse::WORK_TYPES`].
    pub types: Vec<String>,
    /// Session roles: the built-in ones, then those the config defines.
    pub roles: Vec<Role>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            stale_after_secs: 2 * 3600,
            default_ttl_secs: 30 * 60,
            digest_max_chars: 8000,
            types: Vec::new(),
            roles: BUILT_IN_ROLES
                .iter()
                .map(|(name, description)| Role {
                    name: name.to_string(),
                    description: description.to_string(),
                    allow: Vec::new(),
                    configured: false,
                })
                .collect(),
        }
    }
}

impl Policy {
    /// The role named `name`, when the project knows it.
    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.name == name)
    }

    /// The policy a merged config asks for.
    pub fn from_config(cfg: &ConfigFile) -> Result<Policy> {
        let mut p = Policy::default();
        if let Some(s) = &cfg.stale_after {
            p.stale_after_secs = parse_duration(s)
                .map_err(|e| Error::bad_input(format!("config stale_after: {e}")))?
                .max(1);
        }
        if let Some(s) = &cfg.claim_ttl {
            p.default_ttl_secs = parse_ttl(s).map_err(|e| Error::bad_input(format!("config claim_ttl: {e}")))?;
        }
        if let Some(n) = cfg.digest_max_chars {
            if n < 500 {
                return Err(Error::bad_input(format!(
                    "config digest_max_chars = {n}: expected at least 500"
                )));
            }
            p.digest_max_chars = n;
        }
        for t in cfg.types.iter().flatten() {
            crate::parse::check_type(t).map_err(|e| Error::bad_input(format!("config types: {e}")))?;
            p.types.push(t.clone());
        }
        for (name, r) in cfg.roles.iter().flatten() {
            crate::parse::check_type(name).map_err(|e| {
                Error::bad_input(format!("config roles: {}", e.to_string().replace("work type", "role")))
            })?;
            let role = Role {
                name: name.clone(),
                description: r.description.clone().unwrap_or_default(),
                allow: r.allow.clone().unwrap_or_default(),
                configured: true,
            };
            match p.roles.iter_mut().find(|x| x.name == *name) {
                Some(existing) => *existing = role,
                None => p.roles.push(role),
            }
        }
        Ok(p)
    }
}

/// The longest `lock_timeout` accepted: a call that waits longer than this has hung.
const MAX_LOCK_TIMEOUT_SECS: i64 = 3600;

/// Store options from a `lock_timeout` setting (`origin` names where it came from, for errors).
pub fn store_options(lock_timeout: Option<&str>, origin: &str) -> Result<crate::store::StoreOptions> {
    let mut options = crate::store::StoreOptions::default();
    if let Some(v) = lock_timeout {
        let secs = parse_duration(v).map_err(|e| Error::bad_input(format!("{origin}: {e}")))?;
        if !(1..=MAX_LOCK_TIMEOUT_SECS).contains(&secs) {
            return Err(Error::bad_input(format!(
                "{origin}: lock_timeout '{v}' is out of range: expected from 1s to 1h"
            )));
        }
        options.lock_timeout = std::time::Duration::from_secs(secs as u64);
    }
    Ok(options)
}
