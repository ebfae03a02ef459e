//! What the gate keeps outside the project, where an assistant editing the
//! project's files cannot reach it: the key that seals every pending
//! operation (an edited or forged `pending/{id}.json` no longer verifies) and
//! the ledger of answered operations (a copy of a pending file put back after
//! its answer is refused).
//!
//! The place is `FABER_CLOUD_STATE_DIR`, else `$XDG_STATE_HOME/faber-cloud`,
//! else `~/.local/state/faber-cloud`; the key file is readable by its owner only.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::GateError;
use crate::workspace::{FileLock, WorkspaceError, write_atomic_unlocked};

const KEY_FILE: &str = "gate.key";
const LEDGER_FILE: &str = "answered.json";
/// Ledger entries are kept this long after their operation expires; an
/// expired operation is refused by its sealed expiry anyway.
const LEDGER_GRACE_HOURS: i64 = 24;

/// How an operation was answered, as the ledger remembers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Approved,
    Cancelled,
    Expired,
    /// A "yes" to a first step; the next step has its own id.
    Stepped,
}

/// One answered operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answered {
    pub id: String,
    /// Where and what, for the audit line of a later refusal.
    #[serde(default)]
    pub env: String,
    #[serde(default)]
    pub operation: String,
    pub answer: Answer,
    pub expires_at: DateTime<Utc>,
    /// For a step answered "yes": the id of the next step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Keeper {
    dir: Option<PathBuf>,
    /// The key, once read: an answer seals and verifies several times.
    key: std::sync::OnceLock<Vec<u8>>,
}

impl Keeper {
    /// The keeper at the configured place (see the module's documentation).
    pub fn from_env() -> Keeper {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        let dir = var("FABER_CLOUD_STATE_DIR")
            .or_else(|| var("XDG_STATE_HOME").map(|d| d.join("faber-cloud")))
            .or_else(|| var("HOME").map(|h| h.join(".local/state/faber-cloud")));
        Keeper { dir, key: std::sync::OnceLock::new() }
    }

    pub fn at(dir: impl Into<PathBuf>) -> Keeper {
        Keeper { dir: Some(dir.into()), key: std::sync::OnceLock::new() }
    }

    fn dir(&self) -> Result<&Path, GateError> {
        self.dir.as_deref().ok_or(GateError::NoStateDir)
    }

    /// The sealing key, made on first use (32 random bytes, mode 0600).
    fn key(&self) -> Result<&[u8], GateError> {
        if let Some(key) = self.key.get() {
            return Ok(key);
        }
        let key = self.load_or_make_key()?;
        Ok(self.key.get_or_init(|| key))
    }

    fn load_or_make_key(&self) -> Result<Vec<u8>, GateError> {
        let dir = self.dir()?;
        let path = dir.join(KEY_FILE);
        match std::fs::read(&path) {
            Ok(key) if key.len() == 32 => return Ok(key),
            Ok(_) => return Err(GateError::BadKey { path }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(WorkspaceError::io(&path, e).into()),
        }
        create_private_dir(dir)?;
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| WorkspaceError::io(&path, std::io::Error::other(e.to_string())))?;
        // Two first uses at once: one creates, the other reads what it wrote.
        let tmp = dir.join(format!(".{KEY_FILE}.{}", uuid::Uuid::new_v4()));
        let io = |e| WorkspaceError::io(&path, e);
        {
            let mut f = private_file(&tmp).map_err(io)?;
            f.write_all(&key).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        let linked = std::fs::hard_link(&tmp, &path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(key.to_vec()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => self.load_or_make_key(),
            Err(e) => Err(io(e).into()),
        }
    }

    fn mac(&self, scope: &Path, bytes: &[u8]) -> Result<Hmac<Sha256>, GateError> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.key()?).expect("HMAC takes any key length");
        mac.update(scope.to_string_lossy().as_bytes());
        mac.update(&[0]);
        mac.update(bytes);
        Ok(mac)
    }

    /// The seal of `bytes` for the workspace at `scope` (a file sealed in one
    /// project does not verify in another).
    pub fn seal(&self, scope: &Path, bytes: &[u8]) -> Result<String, GateError> {
        Ok(hex::encode(self.mac(scope, bytes)?.finalize().into_bytes()))
    }

    /// Whether `seal` is the seal of `bytes` (compared in constant time).
    pub fn verify(&self, scope: &Path, bytes: &[u8], seal: &str) -> Result<bool, GateError> {
        let Ok(tag) = hex::decode(seal) else { return Ok(false) };
        Ok(self.mac(scope, bytes)?.verify_slice(&tag).is_ok())
    }

    /// How `id` was answered, if it was.
    pub fn answered(&self, id: &str) -> Result<Option<Answered>, GateError> {
        let path = self.dir()?.join(LEDGER_FILE);
        Ok(read_ledger(&path)?.into_iter().find(|a| a.id == id))
    }

    /// Records an answer; refuses (returning the earlier one) when `id` was already answered.
    pub fn record(&self, entry: Answered, now: DateTime<Utc>) -> Result<Result<(), Answered>, GateError> {
        let dir = self.dir()?;
        create_private_dir(dir)?;
        let path = dir.join(LEDGER_FILE);
        let _lock = FileLock::exclusive(&dir.join(format!(".{LEDGER_FILE}.lock")))?;
        let mut ledger = read_ledger(&path)?;
        if let Some(earlier) = ledger.iter().find(|a| a.id == entry.id) {
            return Ok(Err(earlier.clone()));
        }
        ledger.retain(|a| a.expires_at + Duration::hours(LEDGER_GRACE_HOURS) > now);
        ledger.push(entry);
        let mut text = serde_json::to_vec(&ledger).expect("ledger entries serialise");
        text.push(b'\n');
        write_atomic_unlocked(&path, &text)?;
        Ok(Ok(()))
    }
}

fn read_ledger(path: &Path) -> Result<Vec<Answered>, GateError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| GateError::BadLedger { path: path.to_path_buf(), detail: e.to_string() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(WorkspaceError::io(path, e).into()),
    }
}

fn create_private_dir(dir: &Path) -> Result<(), GateError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| WorkspaceError::io(dir, e).into())
}

fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_verify_only_for_the_same_bytes_scope_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let keeper = Keeper::at(dir.path());
        let seal = keeper.seal(Path::new("/p"), b"abc").unwrap();
        assert!(keeper.verify(Path::new("/p"), b"abc", &seal).unwrap());
        assert!(!keeper.verify(Path::new("/p"), b"abd", &seal).unwrap());
        assert!(!keeper.verify(Path::new("/q"), b"abc", &seal).unwrap());
        assert!(!keeper.verify(Path::new("/p"), b"abc", "zz").unwrap());
        let other = tempfile::tempdir().unwrap();
        assert!(!Keeper::at(other.path()).verify(Path::new("/p"), b"abc", &seal).unwrap());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "the key is readable by its owner only: {mode:o}");
        }
    }

    #[test]
    fn the_ledger_refuses_a_second_answer_and_forgets_long_expired_ones() {
        let dir = tempfile::tempdir().unwrap();
        let keeper = Keeper::at(dir.path());
        let now = Utc::now();
        let entry =
            |id: &str, expires_at| Answered { id: id.into(), env: "test".into(), operation: "bump".into(), answer: Answer::Approved, expires_at, next: None };
        assert_eq!(keeper.record(entry("a", now), now).unwrap(), Ok(()));
        assert!(keeper.record(entry("a", now), now).unwrap().is_err());
        assert_eq!(keeper.answered("a").unwrap().unwrap().answer, Answer::Approved);
        let later = now + Duration::hours(LEDGER_GRACE_HOURS + 1);
        keeper.record(entry("b", later), later).unwrap().unwrap();
        assert!(keeper.answered("a").unwrap().is_none());
    }
}
