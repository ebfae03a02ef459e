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

    /// Serialises `value` as pretty JSON and writes it atomically.
    pub fn write_json<T: Serialize>(&self, path: &Path, value: &T) -> Result<(), WorkspaceError> {
        let mut text = serde_json::to_vec_pretty(value).expect("report types serialise");
        text.push(b'\n');
        self.write_atomic(path, &text)
    }

    /// Holds an exclusive lock beside `path` (`.{name}.lock`) until dropped.
    /// Writers of the same file take it; readers need not, since writes are atomic.
    pub fn lock_file(&self, path: &Path) -> Result<FileLock, WorkspaceError> {
        let parent = path.parent().unwrap_or(&self.root);
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("workspace");
        let lock_path = parent.join(format!(".{name}.lock"));
        FileLock::exclusive(&lock_path)
    }

    /// Tries to take a named lock (`locks/{name}.lock`) without waiting, e.g.
    /// one deploy per environment. `None` means another process holds it.
    pub fn try_lock(&self, name: &str) -> Result<Option<FileLock>, WorkspaceError> {
        let path = self.path(&format!("locks/{name}.lock"))?;
        FileLock::try_exclusive(&path)
    }

    /// Appends one entry to `audit-trail.jsonl`.
    pub fn audit(&self, entry: &AuditEntry) -> Result<(), WorkspaceError> {
        audit::append(&self.root.join(audit::FILE), entry)
    }
}

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

    pub fn exclusive(path: &Path) -> Result<FileLock, WorkspaceError> {
        let file = Self::open(path)?;
        file.lock().map_err(|e| WorkspaceError::io(path, e))?;
        Ok(FileLock { _file: file })
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
    fn try_lock_reports_a_held_lock() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::at(dir.path().to_path_buf());
        let held = ws.try_lock("deploy-test").unwrap().expect("free at first");
        assert!(ws.try_lock("deploy-test").unwrap().is_none(), "second taker must be refused");
        drop(held);
        assert!(ws.try_lock("deploy-test").unwrap().is_some());
    }
}
