//! The library's error type: what callers branch on, and the exit code and
//! wire shape each case maps to.

use serde::Serialize;
use thiserror::Error;

use crate::config::{ConfigError, Problem, UnknownEnvironment};
use crate::gate::GateError;
use crate::iac::runner::RunError;
use crate::vocabulary::{BadInput, Intent};
use crate::workspace::WorkspaceError;

#[derive(Debug, Error)]
pub enum Error {
    /// An input field is missing or not accepted.
    #[error("{field}: {message}{}", accepted.as_ref().map(|a| format!(" (accepted: {a})")).unwrap_or_default())]
    BadInput { field: String, message: String, accepted: Option<String> },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error(transparent)]
    Gate(#[from] GateError),
    /// Another operation holds what this one needs (one deploy per environment, one terraform per state).
    #[error("{what} is in progress{}; wait for it to finish and try again", holder.as_ref().map(|h| format!(" ({h})")).unwrap_or_default())]
    Busy { what: String, holder: Option<String> },
    /// AWS answered with an error (or could not be reached).
    #[error("{service}:{operation}: {}{message}", code.as_ref().map(|c| format!("{c}: ")).unwrap_or_default())]
    Aws { service: String, operation: String, code: Option<String>, message: String, retryable: bool },
    /// An external tool (terraform, a scanner) could not run or failed.
    #[error(transparent)]
    Tool(#[from] RunError),
    /// Something the request names does not exist.
    #[error("{message}")]
    NotFound { what: &'static str, name: String, message: String },
    /// The operation ran and failed.
    #[error("{0}")]
    Failed(String),
    /// A check ran and found the input invalid; the body is its full report.
    #[error("{summary}")]
    Invalid { summary: String, body: Box<serde_json::Value> },
    /// A defect: the operation panicked. Nothing after the panic ran; the server keeps serving.
    #[error("internal error ({0}); nothing more was done — please report it with the request that caused it")]
    Internal(String),
    /// The director routed the request, and the operation then failed.
    #[error("routed to {} {} (env {}): {source}", routed.target.manager(), routed.target.operation(), routed.env)]
    AfterRouting { routed: Box<Intent>, source: Box<Error> },
}

/// The machine-readable form of an error, as tools and `--json` return it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ErrorBody {
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<String>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problems: Option<Vec<Problem>>,
    /// Where the director sent the request before the operation failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routed: Option<serde_json::Value>,
    /// The full report of a check that found problems.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<serde_json::Value>,
    /// AWS's error code, for `aws` errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Whether trying again may succeed (`aws`: throttling or a transient failure; `busy`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retryable: Option<bool>,
}

impl Error {
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>, accepted: Option<String>) -> Error {
        Error::BadInput { field: field.into(), message: message.into(), accepted }
    }

    /// A check that ran and found problems: its report is the error's body.
    pub fn invalid<R: crate::vocabulary::Report>(report: &R) -> Error {
        Error::Invalid { summary: report.text(), body: Box::new(serde_json::to_value(report).expect("reports serialise")) }
    }

    /// CLI exit code: 1 operation failed, 2 bad input.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::BadInput { .. } | Error::Config(_) => 2,
            Error::Workspace(WorkspaceError::PluginRoot { .. }) => 2,
            Error::Gate(e) if e.is_bad_input() => 2,
            Error::AfterRouting { source, .. } => source.exit_code(),
            _ => 1,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Error::BadInput { .. } => "bad_input",
            Error::Config(_) => "config",
            Error::Workspace(WorkspaceError::Busy { .. }) => "busy",
            Error::Workspace(_) => "workspace",
            Error::Gate(e) if e.is_bad_input() => "bad_input",
            Error::Gate(_) => "gate",
            Error::Busy { .. } => "busy",
            Error::Aws { .. } => "aws",
            Error::Tool(_) => "tool",
            Error::NotFound { .. } => "not_found",
            Error::Failed(_) => "failed",
            Error::Internal(_) => "internal",
            Error::Invalid { .. } => "invalid",
            Error::AfterRouting { source, .. } => source.kind(),
        }
    }

    pub fn body(&self) -> ErrorBody {
        if let Error::AfterRouting { routed, source } = self {
            let mut body = source.body();
            body.message = crate::redact::redact(&self.to_string());
            body.routed = Some(serde_json::to_value(routed).expect("intents serialise"));
            return body;
        }
        let (field, accepted) = match self {
            Error::BadInput { field, accepted, .. } => (Some(field.clone()), accepted.clone()),
            Error::Gate(e) => (e.field().map(str::to_string), None),
            _ => (None, None),
        };
        let problems = match self {
            Error::Config(ConfigError::Invalid { problems, .. }) => Some(problems.clone()),
            _ => None,
        };
        // The report behind a check that failed (a diff of hand edits, a test report) is redacted like every reply.
        let report = match self {
            Error::Invalid { body, .. } => {
                let mut report = (**body).clone();
                crate::redact::redact_json(&mut report);
                Some(report)
            }
            _ => None,
        };
        let (code, retryable) = match self {
            Error::Aws { code, retryable, .. } => (code.clone(), Some(*retryable)),
            Error::Busy { .. } => (None, Some(true)),
            _ => (None, None),
        };
        ErrorBody { kind: self.kind(), field, accepted, message: crate::redact::redact(&self.to_string()), problems, routed: None, report, code, retryable }
    }
}

impl From<BadInput> for Error {
    fn from(e: BadInput) -> Self {
        Error::BadInput { field: e.field, message: e.message, accepted: e.accepted }
    }
}

impl From<UnknownEnvironment> for Error {
    fn from(e: UnknownEnvironment) -> Self {
        BadInput::from(e).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_reach_the_error_body() {
        let e = Error::Failed("terraform said: token=abc123secretvalue for AKIAIOSFODNN7EXAMPLE".into());
        let body = e.body();
        assert!(!body.message.contains("abc123secretvalue") && !body.message.contains("AKIAIOSFODNN7EXAMPLE"), "{}", body.message);
        assert!(body.message.starts_with("terraform said:"));
    }

    #[test]
    fn secrets_never_reach_the_report_of_a_failed_check() {
        let e = Error::Invalid {
            summary: "edited".into(),
            body: Box::new(serde_json::json!({"files": [{"diff": "+  db_password = \"S3cr3tP@ssw0rd-xyz\"\n+  key = \"AKIAIOSFODNN7EXAMPLE\""}]})),
        };
        let report = e.body().report.unwrap().to_string();
        assert!(!report.contains("S3cr3tP@ssw0rd-xyz") && !report.contains("AKIAIOSFODNN7EXAMPLE"), "{report}");
        assert!(report.contains("db_password"), "{report}");
    }
}
