//! Which project the caller is in, and what git says about it.
//!
//! Read straight from `.git` files instead of spawning `git`: a CLI call must start in a few
//! milliseconds, and a `git` process costs about as much as the whole call.

use std::fs;
use std::path::{Path, PathBuf};

/// What git tells about the working directory.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GitInfo {
    /// The top of the working tree.
    pub worktree: PathBuf,
    /// The repository's common git directory (shared by all worktrees).
    pub common_dir: PathBuf,
    pub branch: Option<String>,
    pub commit: Option<String>,
    pub origin: Option<String>,
}

/// The project a command works in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The project key: normalized `origin` URL, else the git common dir, else the directory.
    pub key: String,
    /// The default repo for claims, like `org/app`.
    pub repo: String,
    pub git: Option<GitInfo>,
}

impl Project {
    /// Detects the project of `cwd`. `key_override` (from `--project` / `BATON_PROJECT`) replaces the key.
    pub fn detect(cwd: &Path, key_override: Option<&str>) -> Project {
        Project::resolve(cwd, GitInfo::discover(cwd), key_override)
    }

    /// Builds the project of `cwd` from already discovered git facts.
    pub fn resolve(cwd: &Path, git: Option<GitInfo>, key_override: Option<&str>) -> Project {
        if let Some(key) = key_override {
            let repo = normalize_remote(key)
                .map(|(_, path)| path)
                .unwrap_or_else(|| key.to_string());
            return Project {
                key: key.to_string(),
                repo,
                git,
            };
        }
        match &git {
            Some(g) => {
                if let Some((host_path, path)) = g.origin.as_deref().and_then(normalize_remote) {
                    Project {
                        key: host_path,
                        repo: path,
                        git,
                    }
                } else {
                    let dir = fs::canonicalize(&g.common_dir).unwrap_or_else(|_| g.common_dir.clone());
                    let top = if dir.file_name().is_some_and(|n| n == ".git") {
                        dir.parent().map(Path::to_path_buf).unwrap_or_else(|| dir.clone())
                    } else {
                        dir.clone()
                    };
                    Project {
                        key: dir.display().to_string(),
                        repo: base_name(&top),
                        git,
                    }
                }
            }
            None => {
                let dir = fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
                Project {
                    key: dir.display().to_string(),
                    repo: base_name(&dir),
                    git: None,
                }
            }
        }
    }
}

fn base_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

impl GitInfo {
    /// Finds the repository containing `start`, if any.
    pub fn discover(start: &Path) -> Option<GitInfo> {
        let mut dir = Some(start);
        while let Some(d) = dir {
            let dotgit = d.join(".git");
            if let Ok(meta) = fs::metadata(&dotgit) {
                let git_dir = if meta.is_dir() {
                    dotgit
                } else {
                    let text = fs::read_to_string(&dotgit).ok()?;
                    let rel = text.trim().strip_prefix("gitdir:")?.trim();
                    d.join(rel)
                };
                return Some(GitInfo::read(d, &git_dir));
            }
            dir = d.parent();
        }
        None
    }

    fn read(worktree: &Path, git_dir: &Path) -> GitInfo {
        let common_dir = fs::read_to_string(git_dir.join("commondir"))
            .ok()
            .map(|rel| git_dir.join(rel.trim()))
            .unwrap_or_else(|| git_dir.to_path_buf());
        let head = fs::read_to_string(git_dir.join("HEAD")).unwrap_or_default();
        let head = head.trim();
        let (branch, commit) = match head.strip_prefix("ref:") {
            Some(r) => {
                let r = r.trim();
                let branch = r.strip_prefix("refs/heads/").unwrap_or(r).to_string();
                (Some(branch), resolve_ref(git_dir, &common_dir, r))
            }
            None if is_object_id(head) => (None, Some(head.to_string())),
            None => (None, None),
        };
        let origin = fs::read_to_string(common_dir.join("config"))
            .ok()
            .and_then(|c| origin_url(&c));
        GitInfo {
            worktree: worktree.to_path_buf(),
            common_dir,
            branch,
            commit,
            origin,
        }
    }
}

fn is_object_id(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn resolve_ref(git_dir: &Path, common_dir: &Path, name: &str) -> Option<String> {
    for dir in [git_dir, common_dir] {
        if let Ok(text) = fs::read_to_string(dir.join(name)) {
            let t = text.trim();
            if is_object_id(t) {
                return Some(t.to_string());
            }
        }
    }
    let packed = fs::read_to_string(common_dir.join("packed-refs")).ok()?;
    packed.lines().find_map(|line| {
        let (oid, r) = line.split_once(' ')?;
        (r.trim() == name && is_object_id(oid)).then(|| oid.to_string())
    })
}

/// The `url` of `[remote "origin"]` in a git config file.
fn origin_url(config: &str) -> Option<String> {
    let mut in_origin = false;
    for line in config.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            let inner = l.trim_start_matches('[').trim_end_matches(']');
            let compact: String = inner.split_whitespace().collect::<Vec<_>>().join(" ");
            in_origin = compact == "remote \"origin\"";
            continue;
        }
        if in_origin
            && let Some((k, v)) = l.split_once('=')
            && k.trim().eq_ignore_ascii_case("url")
        {
            let v = v.trim().trim_matches('"');
            if !v.is_empty() {
                return Some(v.to_string());
            }
        }
    }
    None
}

/// Normalizes a git remote URL into (`host/path`, `path`): `git@github.com:Org/App.git` and
/// `https://user@github.com/Org/App` both give `github.com/Org/App`, `Org/App`.
pub fn normalize_remote(url: &str) -> Option<(String, String)> {
    let u = url.trim();
    let (host, path) = if let Some((_, rest)) = u.split_once("://") {
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let host = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
        let host = host.split(':').next().unwrap_or(host);
        (host.to_string(), path.to_string())
    } else if let Some((left, path)) = u.split_once(':') {
        if left.contains('/') || left.is_empty() {
            return None;
        }
        let host = left.rsplit_once('@').map(|(_, h)| h).unwrap_or(left);
        (host.to_string(), path.to_string())
    } else {
        return None;
    };
    let path = path.trim_matches('/');
    let path = path
        .strip_suffix(".git")
        .unwrap_or(path)
        .trim_end_matches('/')
        .to_string();
    let host = host.to_ascii_lowercase();
    if path.is_empty() {
        return None;
    }
    if host.is_empty() {
        return Some((path.clone(), path));
    }
    Some((format!("{host}/{path}"), path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remotes_normalize_to_one_key() {
        let want = Some(("github.com/org/app".to_string(), "org/app".to_string()));
        assert_eq!(normalize_remote("git@github.com:org/app.git"), want);
        assert_eq!(normalize_remote("https://github.com/org/app.git"), want);
        assert_eq!(normalize_remote("https://user:pw@GitHub.com/org/app/"), want);
        assert_eq!(normalize_remote("ssh://git@github.com:22/org/app"), want);
        assert_eq!(normalize_remote("/local/path"), None);
    }

    #[test]
    fn origin_from_config() {
        let cfg =
            "[core]\n\tbare = false\n[remote \"upstream\"]\n\turl = x\n[remote \"origin\"]\n\turl = git@h:o/r.git\n";
        assert_eq!(origin_url(cfg).as_deref(), Some("git@h:o/r.git"));
    }
}
