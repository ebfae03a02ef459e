//! The library's error type: what callers branch on, and the exit code and
//! wire shape each case maps to.

use serde::Serialize;
use thiserror::Error;

use crate::config::{ConfigError, Problem, UnknownEnvironment};
use crate::director::Intent;
use crate::gate::GateError;
use crate::workspace::WorkspaceError;

#[derive(Debug, Error)]
pub enum Error {
    /// An input field is missing or not accepted.
    #[error("{field}: {message}{}", accepted.as_ref().map(|a| format!(" (accepted: {a})")).unwrap_or_default())]
    BadInput { field: String, message: String, accepted: Option<String> },
    /// The operation is part of the product but not built yet.
    #[error("{manager} {operation} is not available yet in this version of faber-cloud; nothing was run for env {env}")]
    NotAvailable { manager: String, operation: String, env: String },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error(transparent)]
    Gate(#[from] GateError),
    /// The operation ran and failed.
    #[error("{0}")]
    Failed(String),
    /// A check ran and found the input invalid; the body is its full report.
    #[error("{summary}")]
    Invalid { summary: String, body: Box<serde_json::Value> },
    /// The director routed the request, and the operation then failed.
    #[error("routed to {} {} (env {}): {source}", routed.target.manager(), routed.target.operation(), routed.env)]
    AfterRouting { routed: Box<Intent>, source: Box<Error> },
}

/// The machine-readable form of an error, as tools and `--json` return it.
#[derive(Debug, Serialize)]
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
}

impl Error {
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>, accepted: Option<String>) -> Error {
        Error::BadInput { field: field.into(), message: message.into(), accepted }
    }

    pub fn not_available(manager: &str, operation: &str, env: &str) -> Error {
        Error::NotAvailable { manager: manager.into(), operation: operation.into(), env: env.into() }
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
            Error::NotAvailable { .. } => "not_available",
            Error::Config(_) => "config",
            Error::Workspace(_) => "workspace",
            Error::Gate(e) if e.is_bad_input() => "bad_input",
            Error::Gate(_) => "gate",
            Error::Failed(_) => "failed",
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
        let report = match self {
            Error::Invalid { body, .. } => Some((**body).clone()),
            _ => None,
        };
        ErrorBody { kind: self.kind(), field, accepted, message: crate::redact::redact(&self.to_string()), problems, routed: None, report }
    }
}

impl From<UnknownEnvironment> for Error {
    fn from(e: UnknownEnvironment) -> Self {
        Error::BadInput { field: "env".into(), message: format!("environment \"{}\" is not configured", e.name), accepted: Some(e.configured.join(", ")) }
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
}
