//! Runtime operations on AWS (check-health, query-logs, investigate,
//! analyze-performance, remediate, audit) and their request type.
//!
//! As in `infra`, one closed enum and one dispatch; operations not built yet
//! answer "not available yet".

pub mod catalog;
pub mod health;
pub mod investigate;
pub mod logs;
pub mod patterns;
pub mod performance;
pub mod remediate;
pub mod services;
pub mod stats;

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::app::{App, Reply};
use crate::error::Error;
use crate::validate;

/// The operations of `ops-manager`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum OpsOperation {
    /// HEALTHY / DEGRADED / UNHEALTHY per service from CloudWatch metrics and alarms.
    CheckHealth,
    /// Search CloudWatch Logs of a service.
    QueryLogs,
    /// Timeline, error patterns, correlation and root-cause candidates.
    Investigate,
    /// Invocations, errors, duration, throttles, trends and recommendations.
    AnalyzePerformance,
    /// restart / scale / rollback, through the confirmation gate.
    Remediate,
    /// Cost, security or compliance audit.
    Audit,
}

impl OpsOperation {
    pub const ALL: [OpsOperation; 6] = [
        OpsOperation::CheckHealth,
        OpsOperation::QueryLogs,
        OpsOperation::Investigate,
        OpsOperation::AnalyzePerformance,
        OpsOperation::Remediate,
        OpsOperation::Audit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OpsOperation::CheckHealth => "check-health",
            OpsOperation::QueryLogs => "query-logs",
            OpsOperation::Investigate => "investigate",
            OpsOperation::AnalyzePerformance => "analyze-performance",
            OpsOperation::Remediate => "remediate",
            OpsOperation::Audit => "audit",
        }
    }
}

/// Remediation actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum RemediationAction {
    Restart,
    Scale,
    Rollback,
}

/// Audit focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum AuditFocus {
    Cost,
    Security,
    Compliance,
}

/// Arguments of `ops-manager` (MCP) and `faber-cloud ops` (CLI).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct OpsRequest {
    /// The operation to run.
    #[arg(value_enum, required = true)]
    #[schemars(required)]
    pub operation: Option<OpsOperation>,
    /// Target environment as configured in devops.json (default: test).
    #[arg(long)]
    #[serde(default)]
    pub env: Option<String>,
    /// A service name such as api-lambda; without it, all services of the environment.
    #[arg(long)]
    #[serde(default)]
    pub service: Option<String>,
    /// query-logs / investigate: a CloudWatch filter pattern, e.g. ERROR or "Database timeout".
    #[arg(long)]
    #[serde(default)]
    pub filter: Option<String>,
    /// How far back: 30m, 2h, 24h, 7d, or an ISO-8601 range start/end.
    #[arg(long)]
    #[serde(default)]
    pub timeframe: Option<String>,
    /// query-logs: the most events to return (1–1000).
    #[arg(long)]
    #[serde(default)]
    pub limit: Option<u32>,
    /// remediate: restart, scale or rollback.
    #[arg(long, value_enum)]
    #[serde(default)]
    pub action: Option<RemediationAction>,
    /// remediate scale: the target capacity (Lambda reserved concurrency, ECS desired count).
    #[arg(long)]
    #[serde(default)]
    pub target: Option<u32>,
    /// audit: cost, security or compliance.
    #[arg(long, value_enum)]
    #[serde(default)]
    pub focus: Option<AuditFocus>,
}

/// Runs one runtime operation.
pub async fn run(app: &App, req: &OpsRequest) -> Result<Reply, Error> {
    let operation = req.operation.ok_or_else(|| Error::bad_input("operation", "is required", Some(accepted())))?;
    let env = app.resolve_env(req.env.as_deref())?;
    if let Some(service) = &req.service {
        validate::service_name(service)?;
    }
    if let Some(filter) = &req.filter {
        validate::text("filter", filter, 1024)?;
    }
    if let Some(timeframe) = &req.timeframe {
        validate::timeframe(timeframe)?;
    }
    if let Some(limit) = req.limit
        && !(1..=1000).contains(&limit)
    {
        return Err(Error::bad_input("limit", format!("{limit} is out of range"), Some("1 to 1000".into())));
    }
    if operation == OpsOperation::Remediate && req.action.is_none() {
        return Err(Error::bad_input("action", "is required for remediate", Some("restart, scale, rollback".into())));
    }
    let ws = app.workspace();
    match operation {
        OpsOperation::CheckHealth => {
            let config = app.config()?;
            let report = health::run(ws, &config, &env, req.service.as_deref()).await?;
            Ok(Reply::ok(health::summary(&report), serde_json::to_value(&report).expect("reports serialise")))
        }
        OpsOperation::QueryLogs => {
            let config = app.config()?;
            let report = logs::run(ws, &config, &env, req.service.as_deref(), req.filter.as_deref(), req.timeframe.as_deref(), req.limit).await?;
            Ok(Reply::ok(logs::summary(&report), serde_json::to_value(&report).expect("reports serialise")))
        }
        OpsOperation::AnalyzePerformance => {
            let config = app.config()?;
            let report = performance::run(ws, &config, &env, req.service.as_deref(), req.timeframe.as_deref()).await?;
            Ok(Reply::ok(performance::summary(&report), serde_json::to_value(&report).expect("reports serialise")))
        }
        OpsOperation::Investigate => {
            let config = app.config()?;
            let report = investigate::run(ws, &config, &env, req.service.as_deref(), req.timeframe.as_deref()).await?;
            Ok(Reply::ok(investigate::summary(&report), serde_json::to_value(&report).expect("reports serialise")))
        }
        OpsOperation::Remediate => {
            let config = app.config()?;
            let action = req.action.expect("checked above");
            remediate::start(app, &config, &env, req.service.as_deref(), action, req.target).await
        }
        OpsOperation::Audit => Err(Error::not_available("ops-manager", operation.as_str(), &env)),
    }
}

fn accepted() -> String {
    OpsOperation::ALL.iter().map(|o| o.as_str()).collect::<Vec<_>>().join(", ")
}

/// `faber-cloud patterns <file>`: mines the templates of a local file, one
/// message per line (bytes that are not UTF-8 are replaced). Reads the file;
/// the mining itself is `patterns::mine`. The body lists the templates by
/// descending count, with 1-based line numbers, and each line's template id.
pub fn mine_file(path: &Path) -> Result<Reply, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::bad_input("file", format!("cannot read {}: {e}", path.display()), None))?;
    let mined = patterns::mine(&String::from_utf8_lossy(&bytes), patterns::MinerConfig::standard());
    let templates: Vec<_> = mined
        .templates
        .iter()
        .map(|t| json!({"id": t.id.0, "template": t.text, "count": t.count, "first_line": t.first_index + 1, "last_line": t.last_index + 1, "example": t.example}))
        .collect();
    let lines: Vec<u32> = mined.lines.iter().map(|id| id.0).collect();
    Ok(Reply::ok(mined.summary(), json!({"templates": templates, "lines": lines})))
}
