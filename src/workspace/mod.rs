//! The `.fractary/plugins/faber-cloud/` tree under the project directory:
//! where it is, atomic writes, writer locks, and the append-only audit trail.
//!
//! Every file the product writes goes through here, so no caller can leave a
//! half-written JSON file behind or write outside the project directory.

pub mod audit;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use thiserror::Error;

pub use audit::{AuditEntry, Outcome};

/// The workspace root, relative to the project directory.
pub const WORKSPACE_DIR: &str = ".fractary/plugins/faber-cloud";

#[derive(Debug, Error)]
pub enum WorkspaceError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(
        "the project directory {path} is the plugin's install directory (CLAUDE_PLUGIN_ROOT); pass --project-dir or set CLAUDE_PROJECT_DIR to your project"
    )]
    PluginRoot { path: PathBuf },
    #[error("{path} would be outside the workspace")]
    Escape { path: PathBuf },
    /// A JSON file that could not be read was moved aside (never overwritten).
    #[error("{path} could not be read ({detail}); it was moved to {moved_to} and nothing was written over it — look at it, then run the operation again")]
    Unreadable { path: PathBuf, moved_to: PathBuf, detail: String },
    /// Another process held a file's lock for longer than a write takes.
    #[error("{path} is locked by another faber-cloud process{}; waited {}s — try again when it has finished", holder.as_ref().map(|h| format!(" ({h})")).unwrap_or_default(), LOCK_WAIT.as_secs())]
    Busy { path: PathBuf, holder: Option<String> },
}

impl WorkspaceError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        WorkspaceError::Io { path: path.to_path_buf(), source }
    }
}

/// Where the project and its workspace are.
#[derive(Debug, Clone)]
pub struct Workspace {
    project_dir: PathBuf,
    root: PathBuf,
}

/// Which directory counts as the project: the flag, then `CLAUDE_PROJECT_DIR`,
/// then the working directory; never the plugin's install directory.
#[derive(Debug, Clone, Default)]
pub struct Locate {
    pub project_dir: Option<PathBuf>,
    pub claude_project_dir: Option<PathBuf>,
    pub plugin_root: Option<PathBuf>,
    pub cwd: Option<PathBuf>,
}

impl Locate {
    /// Reads the environment variables and the working directory.
    pub fn from_env(project_dir: Option<PathBuf>) -> Locate {
        let var = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        Locate { project_dir, claude_project_dir: var("CLAUDE_PROJECT_DIR"), plugin_root: var("CLAUDE_PLUGIN_ROOT"), cwd: std::env::current_dir().ok() }
    }
}

impl Workspace {
    pub fn locate(how: Locate) -> Result<Workspace, WorkspaceError> {
        let dir = how.project_dir.or(how.claude_project_dir).or(how.cwd).unwrap_or_else(|| PathBuf::from("."));
        let dir = std::path::absolute(&dir).map_err(|e| WorkspaceError::io(&dir, e))?;
        if let Some(plugin_root) = how.plugin_root {
            let same = match (dir.canonicalize(), plugin_root.canonicalize()) {
                (Ok(a), Ok(b)) => a == b,
                _ => dir == plugin_root,
            };
            if same {
                return Err(WorkspaceError::PluginRoot { path: dir });
            }
        }
        Ok(Workspace::at(dir))
    }

    /// A workspace for an already chosen project directory.
    pub fn at(project_dir: PathBuf) -> Workspace {
        let root = project_dir.join(WORKSPACE_DIR);
        Workspace { project_dir, root }
    }

    pub fn project_dir(&self) -> &Path {
        &self.project_dir
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A path under the workspace root. `rel` comes from code, not from users;
    /// user-given names are validated before they reach here.
    pub fn path(&self, rel: &str) -> Result<PathBuf, WorkspaceError> {
        let rel_path = Path::new(rel);
        let escapes = rel_path.is_absolute() || rel_path.components().any(|c| !matches!(c, std::path::Component::Normal(_)));
        if escapes {
            return Err(WorkspaceError::Escape { path: rel_path.to_path_buf() });
        }
        Ok(self.root.join(rel_path))
    }

    /// Writes `bytes` to `path` so that readers see either the old or the new
    /// content, never a mix: a temp file in the same directory, fsync, rename,
    /// then fsync of the directory. Concurrent writers are serialised by the
    /// file's lock.
    pub fn write_atomic(&self, path: &Path, bytes: &[u8]) -> Result<(), WorkspaceError> {
        let parent = path.parent().ok_or_else(|| WorkspaceError::Escape { path: path.to_path_buf() })?;
        std::fs::create_dir_all(parent).map_err(|e| WorkspaceError::io(parent, e))?;
        let _lock = self.lock_file(path)?;
        write_atomic_unlocked(path, bytes)
    }

    /// Serialises `value` as pretty JSON, secrets redacted in every string
    /// (stored reports never keep them), and writes it atomically.
    pub fn write_json<T: Serialize>(&self, path: &Path, value: &T) -> Result<(), WorkspaceError> {
        let mut json = serde_json::to_value(value).expect("report types serialise");
        crate::redact::redact_json(&mut json);
        self.write_json_exact(path, &json)
    }

    /// Writes `value` exactly as given (a record whose bytes are sealed).
    pub fn write_json_exact<T: Serialize>(&self, path: &Path, value: &T) -> Result<(), WorkspaceError> {
        let mut text = serde_json::to_vec_pretty(value).expect("report types serialise");
        text.push(b'\n');
        self.write_atomic(path, &text)
    }

    /// Reads the JSON file at `path` under its lock (`None` when it does not
    /// exist), lets `change` modify it, and writes the result back atomically
    /// (nothing is written when `change` fails; a file that `change` sets to
    /// `None` is removed). A file that cannot be parsed is moved aside to `{name}.unreadable-{timestamp}` and
    /// reported as [`WorkspaceError::Unreadable`]: it is never overwritten.
    pub fn update_json<T, R, E>(&self, path: &Path, change: impl FnOnce(&mut Option<T>) -> Result<R, E>) -> Result<R, E>
    where
        T: Serialize + DeserializeOwned,
        E: From<WorkspaceError>,
    {
        let _lock = self.lock_file(path)?;
        let mut value: Option<T> = match std::fs::read(path) {
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(v) => Some(v),
                Err(e) => return Err(move_aside(path, &e.to_string())?.into()),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(WorkspaceError::io(path, e).into()),
        };
        let existed = value.is_some();
        let result = change(&mut value)?;
        match &value {
            Some(v) => {
                let mut text = serde_json::to_vec_pretty(v).expect("workspace files serialise");
                text.push(b'\n');
                write_atomic_unlocked(path, &text)?;
            }
            None if existed => match std::fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(WorkspaceError::io(path, e).into()),
            },
            None => {}
        }
        Ok(result)
    }

    /// Holds an exclusive lock on `path` until dropped: beside it
    /// (`.{name}.lock`) inside the workspace, and under `locks/files/` for a
    /// file outside it (the person's Terraform folder gets no lock files).
    /// Writers of the same file take it; readers need not, since writes are atomic.
    pub fn lock_file(&self, path: &Path) -> Result<FileLock, WorkspaceError> {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("workspace");
        let lock_path = match path.parent() {
            Some(parent) if parent.starts_with(&self.root) => parent.join(format!(".{name}.lock")),
            _ => {
                use sha2::{Digest, Sha256};
                let hash = hex::encode(&Sha256::digest(path.to_string_lossy().as_bytes())[..8]);
                self.root.join("locks/files").join(format!("{name}-{hash}.lock"))
            }
        };
        FileLock::exclusive(&lock_path)
    }

    /// Tries to take a named lock (`locks/{name}.lock`) without waiting, e.g.
    /// one deploy per environment. The holder writes who it is and since when
    /// into the lock file (`purpose` says what for); `Err` carries that text
    /// when another process holds the lock.
    pub fn try_lock(&self, name: &str, purpose: &str) -> Result<Result<FileLock, Option<String>>, WorkspaceError> {
        let path = self.path(&format!("locks/{name}.lock"))?;
        match FileLock::try_exclusive(&path)? {
            Some(lock) => {
                let holder = format!(
                    "{purpose} by pid {} ({}) since {}",
                    std::process::id(),
                    audit::os_user(),
                    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                );
                // Who holds it is information for the next taker, not a condition of holding it.
                let _ = lock.describe(&holder);
                Ok(Ok(lock))
            }
            None => {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let holder = text.trim();
                Ok(Err((!holder.is_empty()).then(|| format!("held: {holder}"))))
            }
        }
    }

    /// Appends one entry to `audit-trail.jsonl`.
    pub fn audit(&self, entry: &AuditEntry) -> Result<(), WorkspaceError> {
        audit::append(&self.root.join(audit::FILE), entry)
    }

    /// The outcomes the audit trail records for one operation id, oldest first
    /// (none when the trail cannot be read).
    pub fn audited_outcomes(&self, operation_id: &str) -> Vec<audit::Outcome> {
        let text = std::fs::read_to_string(self.root.join(audit::FILE)).unwrap_or_default();
        text.lines()
            .filter(|l| l.contains(operation_id))
            .filter_map(|l| serde_json::from_str::<AuditEntry>(l).ok())
            .filter(|e| e.operation_id.as_deref() == Some(operation_id))
            .map(|e| e.outcome)
            .collect()
    }
}

/// How long a writer waits for a file's lock before it reports the file busy.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// An exclusive advisory lock on a file; released when dropped (or when the
/// process dies, so a killed writer never leaves a stale lock).
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

impl FileLock {
    fn open(path: &Path) -> Result<File, WorkspaceError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| WorkspaceError::io(parent, e))?;
        }
        OpenOptions::new().create(true).truncate(false).write(true).open(path).map_err(|e| WorkspaceError::io(path, e))
    }

    /// Waits for the lock at most [`LOCK_WAIT`] (file locks are held for the
    /// time of a write), then reports the path as busy with its holder.
    pub fn exclusive(path: &Path) -> Result<FileLock, WorkspaceError> {
        let file = Self::open(path)?;
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(FileLock { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => std::thread::sleep(std::time::Duration::from_millis(10)),
                Err(std::fs::TryLockError::WouldBlock) => {
                    let holder = std::fs::read_to_string(path).ok().map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
                    return Err(WorkspaceError::Busy { path: path.to_path_buf(), holder });
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(WorkspaceError::io(path, e)),
            }
        }
    }

    /// Writes a line saying who holds the lock into the lock file.
    fn describe(&self, holder: &str) -> std::io::Result<()> {
        let mut f = &self._file;
        f.set_len(0)?;
        std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(0))?;
        f.write_all(holder.as_bytes())?;
        f.write_all(b"\n")
    }

    pub fn try_exclusive(path: &Path) -> Result<Option<FileLock>, WorkspaceError> {
        let file = Self::open(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(FileLock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(WorkspaceError::io(path, e)),
        }
    }
}

/// The atomic write itself, for callers that already hold the file's lock
/// (a read-modify-write under one lock).
pub fn write_atomic_unlocked(path: &Path, bytes: &[u8]) -> Result<(), WorkspaceError> {
    let parent = path.parent().ok_or_else(|| WorkspaceError::Escape { path: path.to_path_buf() })?;
    std::fs::create_dir_all(parent).map_err(|e| WorkspaceError::io(parent, e))?;
    let io = |e| WorkspaceError::io(path, e);
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(parent).map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    sync_dir(parent);
    Ok(())
}

/// Moves an unreadable file aside; the error to report.
fn move_aside(path: &Path, detail: &str) -> Result<WorkspaceError, WorkspaceError> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let moved_to = path.with_file_name(format!("{name}.unreadable-{stamp}"));
    std::fs::rename(path, &moved_to).map_err(|e| WorkspaceError::io(path, e))?;
    tracing::warn!(path = %path.display(), moved_to = %moved_to.display(), "unreadable JSON file moved aside");
    Ok(WorkspaceError::Unreadable { path: path.to_path_buf(), moved_to, detail: detail.to_string() })
}

/// Makes a rename durable. Failure is not fatal: the rename itself is atomic.
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_prefers_flag_then_claude_dir_then_cwd() {
        let a = PathBuf::from("/tmp/a");
        let b = PathBuf::from("/tmp/b");
        let c = PathBuf::from("/tmp/c");
        let ws =
            |project_dir, claude_project_dir| Workspace::locate(Locate { project_dir, claude_project_dir, plugin_root: None, cwd: Some(c.clone()) }).unwrap();
        assert_eq!(ws(Some(a.clone()), Some(b.clone())).project_dir(), a);
        assert_eq!(ws(None, Some(b.clone())).project_dir(), b);
        assert_eq!(ws(None, None).project_dir(), c);
        assert_eq!(ws(None, None).root(), c.join(".fractary/plugins/faber-cloud"));
    }

    #[test]
    fn the_plugin_root_is_never_the_project() {
        let dir = tempfile::tempdir().unwrap();
        let err = Workspace::locate(Locate {
            project_dir: None,
            claude_project_dir: None,
            plugin_root: Some(dir.path().to_path_buf()),
            cwd: Some(dir.path().to_path_buf()),
        })
        .unwrap_err();
        assert!(err.to_string().contains("CLAUDE_PLUGIN_ROOT"), "{err}");
    }

    #[test]
    fn paths_cannot_escape() {
        let ws = Workspace::at(PathBuf::from("/tmp/p"));
        assert!(ws.path("pending/x.json").is_ok());
        for bad in ["../x", "/etc/passwd", "a/../../b", "./x"] {
            assert!(ws.path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::at(dir.path().to_path_buf());
        let path = ws.path("deployments/test/registry.json").unwrap();
        ws.write_json(&path, &serde_json::json!({"n": 1})).unwrap();
        ws.write_json(&path, &serde_json::json!({"n": 2})).unwrap();
        let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(value["n"], 2);
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn update_json_changes_under_the_lock_and_moves_an_unreadable_file_aside() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::at(dir.path().to_path_buf());
        let path = ws.path("remediations/test/remediation-log.json").unwrap();
        let push = |n: u32| {
            ws.update_json(&path, |log: &mut Option<Vec<u32>>| {
                log.get_or_insert_with(Vec::new).push(n);
                Ok::<_, WorkspaceError>(())
            })
        };
        push(1).unwrap();
        push(2).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap().split_whitespace().collect::<String>(), "[1,2]");
        // A failing change writes nothing.
        let failed: Result<(), WorkspaceError> = ws.update_json(&path, |log: &mut Option<Vec<u32>>| {
            log.as_mut().unwrap().clear();
            Err(WorkspaceError::Escape { path: "x".into() })
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap().split_whitespace().collect::<String>(), "[1,2]");
        // An unreadable file is kept, moved aside, and reported; the next update starts afresh.
        std::fs::write(&path, b"[1, 2, oops").unwrap();
        let err = push(3).unwrap_err();
        let WorkspaceError::Unreadable { moved_to, .. } = &err else { panic!("{err}") };
        assert_eq!(std::fs::read(moved_to).unwrap(), b"[1, 2, oops");
        assert!(!path.exists(), "nothing written over it");
        push(4).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap().split_whitespace().collect::<String>(), "[4]");
    }

    #[test]
    fn try_lock_reports_a_held_lock() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::at(dir.path().to_path_buf());
        let held = ws.try_lock("deploy-test", "deploy to test").unwrap().expect("free at first");
        let holder = ws.try_lock("deploy-test", "deploy to test").unwrap().expect_err("second taker must be refused");
        assert!(holder.is_some_and(|h| h.contains("deploy to test by pid")));
        drop(held);
        assert!(ws.try_lock("deploy-test", "deploy to test").unwrap().is_ok());
    }
}
