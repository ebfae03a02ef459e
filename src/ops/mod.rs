//! Runtime operations on AWS (check-health, query-logs, investigate,
//! analyze-performance, remediate, audit) and their request type.
//!
//! As in `infra`, one closed enum and one dispatch.

pub mod audit;
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

use crate::config::Config;
use crate::error::Error;
use crate::vocabulary::{ServiceName, Timeframe, input};
use crate::workspace::Workspace;

pub use crate::vocabulary::{AuditFocus, OpsOperation, RemediationAction};

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
    #[schemars(range(min = 1, max = 1000))]
    pub limit: Option<u32>,
    /// remediate: restart, scale or rollback.
    #[arg(long, value_enum)]
    #[serde(default)]
    pub action: Option<RemediationAction>,
    /// remediate scale: the target capacity (Lambda reserved concurrency, ECS desired count).
    #[arg(long)]
    #[serde(default)]
    pub target: Option<u32>,
    /// audit: cost, security, compliance, or all (the default).
    #[arg(long, value_enum)]
    #[serde(default)]
    pub focus: Option<AuditFocus>,
    /// An environment deployed to several regions: the region to look at (check-health: default all of them; the
    /// other operations: default the primary region).
    #[arg(long)]
    #[serde(default)]
    pub region: Option<String>,
}

/// What `ops-manager` returns: one report type per operation.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant, reason = "one value per request")]
pub enum OpsReport {
    CheckHealth(health::HealthReport),
    QueryLogs(logs::LogsReport),
    Investigate(investigate::IncidentReport),
    AnalyzePerformance(performance::PerformanceReport),
    Remediate(remediate::Remediated),
    Audit(audit::AuditReport),
}

crate::report_enum!(OpsReport { CheckHealth, QueryLogs, Investigate, AnalyzePerformance, Remediate, Audit });

/// Runs one runtime operation.
pub async fn run(ws: &Workspace, req: &OpsRequest) -> Result<OpsReport, Error> {
    let operation = req.operation.ok_or_else(|| Error::bad_input("operation", "is required", Some(accepted())))?;
    let config = Config::load(ws)?;
    let env = config.target_env(req.env.as_deref())?;
    let service_name = req.service.as_deref().map(ServiceName::parse).transpose()?;
    if let Some(filter) = &req.filter {
        input::text("filter", filter, 1024)?;
    }
    let timeframe = req.timeframe.as_deref().map(Timeframe::parse).transpose()?;
    if let Some(limit) = req.limit
        && !(1..=1000).contains(&limit)
    {
        return Err(Error::bad_input("limit", format!("{limit} is out of range"), Some("1 to 1000".into())));
    }
    let service = service_name.as_deref();
    config.check_region(&env, req.region.as_deref())?;
    // Every operation but check-health (which covers each region itself) looks at one region: the one named, or
    // the primary.
    let config_primary = config.primary_region(&env);
    let mut config = config;
    if operation != OpsOperation::CheckHealth
        && let Some(aws) = config.handlers.hosting.aws.as_mut()
    {
        aws.region = req.region.clone().unwrap_or_else(|| config_primary.clone());
    }
    Ok(match operation {
        OpsOperation::CheckHealth => OpsReport::CheckHealth(health::run(ws, &config, &env, service, req.region.as_deref()).await?),
        OpsOperation::QueryLogs => OpsReport::QueryLogs(logs::run(ws, &config, &env, service, req.filter.as_deref(), timeframe.as_ref(), req.limit).await?),
        OpsOperation::AnalyzePerformance => OpsReport::AnalyzePerformance(performance::run(ws, &config, &env, service, timeframe.as_ref()).await?),
        OpsOperation::Investigate => OpsReport::Investigate(investigate::run(ws, &config, &env, service, timeframe.as_ref()).await?),
        OpsOperation::Remediate => {
            let action = req.action.ok_or_else(|| Error::bad_input("action", "is required for remediate", Some("restart, scale, rollback".into())))?;
            OpsReport::Remediate(remediate::start(ws, &config, &env, service_name.as_ref(), action, req.target).await?)
        }
        OpsOperation::Audit => OpsReport::Audit(audit::run(ws, &config, &env, req.focus).await?),
    })
}

fn accepted() -> String {
    OpsOperation::ALL.iter().map(|o| o.as_str()).collect::<Vec<_>>().join(", ")
}

/// `faber-cloud patterns <file>`: mines the templates of a local file, one
/// message per line (bytes that are not UTF-8 are replaced). Opens the file;
/// `patterns::mine_reader` reads and mines it as a stream. The body lists the
/// templates by descending count, with 1-based line numbers, and with
/// `LineIds::Listed` each line's template id (the only part that grows with
/// the file).
pub fn mine_file(path: &Path, ids: patterns::LineIds) -> Result<MinedFile, Error> {
    let unreadable = |e: std::io::Error| Error::bad_input("file", format!("cannot read {}: {e}", path.display()), None);
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mined = patterns::mine_reader(std::io::BufReader::with_capacity(1 << 16, file), patterns::MinerConfig::standard(), ids).map_err(unreadable)?;
    let templates = mined
        .templates
        .iter()
        .map(|t| MinedTemplate {
            id: t.id.0,
            template: t.text.clone(),
            count: t.count,
            first_line: t.first_index + 1,
            last_line: t.last_index + 1,
            example: t.example.clone(),
        })
        .collect();
    let lines = (ids == patterns::LineIds::Listed).then(|| mined.lines.iter().map(|id| id.0).collect());
    Ok(MinedFile { summary: mined.summary(), templates, lines })
}

/// The templates of a file, most frequent first, and each line's template id.
#[derive(Debug, Serialize, JsonSchema)]
pub struct MinedFile {
    #[serde(skip)]
    summary: String,
    pub templates: Vec<MinedTemplate>,
    /// Each line's template id, when asked for (`--json`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<u32>>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct MinedTemplate {
    pub id: u32,
    pub template: String,
    pub count: u64,
    pub first_line: usize,
    pub last_line: usize,
    pub example: String,
}

impl crate::vocabulary::Report for MinedFile {
    fn text(&self) -> String {
        self.summary.clone()
    }
}
