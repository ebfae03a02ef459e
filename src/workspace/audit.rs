//! The append-only `audit-trail.jsonl`: one JSON object per line for every
//! verdict, confirmation, refusal and execution.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{FileLock, WorkspaceError};

pub const FILE: &str = "audit-trail.jsonl";

/// What happened to an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Requested,
    Approved,
    Confirmed,
    Cancelled,
    Refused,
    Executed,
    Failed,
    Succeeded,
    /// The change was sent, and reading it back failed: nobody knows yet whether it took.
    Unverified,
}

impl Outcome {
    /// How an executed action ended (as opposed to the steps of asking and answering).
    pub fn is_end(self) -> bool {
        matches!(self, Outcome::Succeeded | Outcome::Failed | Outcome::Cancelled | Outcome::Unverified)
    }
}

/// One line of the audit trail.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AuditEntry {
    pub timestamp: DateTime<Utc>,
    /// The OS user running the process.
    pub user: String,
    /// The AWS caller ARN (STS), once an operation has talked to AWS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_caller: Option<String>,
    pub operation: String,
    pub env: String,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl AuditEntry {
    pub fn new(operation: &str, env: &str, outcome: Outcome) -> AuditEntry {
        AuditEntry {
            timestamp: Utc::now(),
            user: os_user(),
            aws_caller: None,
            operation: operation.into(),
            env: env.into(),
            outcome,
            operation_id: None,
            digest: None,
            detail: None,
        }
    }
}

pub(crate) fn os_user() -> String {
    whoami::fallible::username().unwrap_or_else(|_| "unknown".into())
}

/// Appends under an exclusive lock with one `write` of a whole line, then
/// fsyncs, so lines from concurrent processes never interleave.
pub(super) fn append(path: &Path, entry: &AuditEntry) -> Result<(), WorkspaceError> {
    let parent = path.parent().expect("the audit trail lives in the workspace");
    std::fs::create_dir_all(parent).map_err(|e| WorkspaceError::io(parent, e))?;
    let _lock = FileLock::exclusive(&parent.join(".audit-trail.lock"))?;
    let mut line = serde_json::to_vec(entry).expect("audit entries serialise");
    line.push(b'\n');
    let mut file = OpenOptions::new().create(true).append(true).open(path).map_err(|e| WorkspaceError::io(path, e))?;
    file.write_all(&line).map_err(|e| WorkspaceError::io(path, e))?;
    file.sync_data().map_err(|e| WorkspaceError::io(path, e))
}
