//! The infrastructure skills (architect → engineer → validate-config → test →
//! preview-changes → deploy → show-resources → debug) and their request type.
//!
//! Each operation is a closed enum variant; [`run`] is the one dispatch. The
//! skills land in later work; until then they answer "not available yet" and
//! never pretend to have done anything.

pub mod architect;
pub mod catalog;
pub mod console;
pub mod debug;
pub mod deploy;
pub mod design;
pub mod diagnose;
pub mod engineer;
pub mod hclfmt;
pub mod package;
pub mod preview;
pub mod registry;
pub mod resources;
pub mod scan;
pub mod test;
pub mod tf;
pub mod validate;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::app::{App, Reply};
use crate::error::Error;
use crate::validate as input;

/// The operations of `infra-manager`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum InfraOperation {
    /// Turn a feature description into a design document.
    Architect,
    /// Generate Terraform from a design document.
    Engineer,
    /// Check Terraform syntax, naming, tags and security settings.
    ValidateConfig,
    /// Pre-deployment tests: security scan, cost estimate, compliance.
    Test,
    /// Plan and summarise what would change (+ ~ -).
    PreviewChanges,
    /// Test, preview, approve, apply, verify, and document a deployment.
    Deploy,
    /// List deployed resources with console links.
    ShowResources,
    /// Categorise a deployment error and propose fixes.
    Debug,
}

impl InfraOperation {
    pub const ALL: [InfraOperation; 8] = [
        InfraOperation::Architect,
        InfraOperation::Engineer,
        InfraOperation::ValidateConfig,
        InfraOperation::Test,
        InfraOperation::PreviewChanges,
        InfraOperation::Deploy,
        InfraOperation::ShowResources,
        InfraOperation::Debug,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InfraOperation::Architect => "architect",
            InfraOperation::Engineer => "engineer",
            InfraOperation::ValidateConfig => "validate-config",
            InfraOperation::Test => "test",
            InfraOperation::PreviewChanges => "preview-changes",
            InfraOperation::Deploy => "deploy",
            InfraOperation::ShowResources => "show-resources",
            InfraOperation::Debug => "debug",
        }
    }

    /// Whether the operation can change cloud resources (and so passes the gate).
    pub fn mutates(self) -> bool {
        matches!(self, InfraOperation::Deploy | InfraOperation::Debug)
    }
}

/// Arguments of `infra-manager` (MCP) and `faber-cloud infra` (CLI).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct InfraRequest {
    /// The operation to run.
    #[arg(value_enum, required = true)]
    #[schemars(required)]
    pub operation: Option<InfraOperation>,
    /// Target environment as configured in devops.json (default: test).
    #[arg(long)]
    #[serde(default)]
    pub env: Option<String>,
    /// architect: the feature to design, in plain words.
    #[arg(long)]
    #[serde(default)]
    pub feature: Option<String>,
    /// engineer: the design document name under designs/ (e.g. user-authentication.md).
    #[arg(long)]
    #[serde(default)]
    pub design: Option<String>,
    /// engineer: overwrite generated files even if they were edited by hand.
    #[arg(long)]
    #[serde(default)]
    pub force: bool,
    /// deploy: skip pre-deployment tests (refused for protected environments).
    #[arg(long)]
    #[serde(default)]
    pub skip_tests: bool,
    /// deploy: skip the preview step (refused for protected environments).
    #[arg(long)]
    #[serde(default)]
    pub skip_preview: bool,
    /// deploy: approve without asking on unprotected environments; ignored for protected ones.
    #[arg(long)]
    #[serde(default)]
    pub auto_approve: bool,
    /// debug: the error message to analyse.
    #[arg(long)]
    #[serde(default)]
    pub error: Option<String>,
    /// test: pre-deployment (default) or post-deployment.
    #[arg(long)]
    #[serde(default)]
    pub phase: Option<String>,
}

/// Runs one infrastructure operation.
pub async fn run(app: &App, req: &InfraRequest) -> Result<Reply, Error> {
    let operation = req.operation.ok_or_else(|| Error::bad_input("operation", "is required", Some(accepted())))?;
    let env = app.resolve_env(req.env.as_deref())?;
    if let Some(feature) = &req.feature {
        input::text("feature", feature, 2000)?;
    }
    if let Some(design) = &req.design {
        input::design_name(design)?;
    }
    if let Some(error) = &req.error {
        input::text("error", error, 20_000)?;
    }
    if let Some(phase) = &req.phase
        && !matches!(phase.as_str(), "pre-deployment" | "post-deployment")
    {
        return Err(Error::bad_input("phase", format!("\"{phase}\" is not accepted"), Some("pre-deployment, post-deployment".into())));
    }
    match operation {
        InfraOperation::Architect => {
            let feature = req.feature.as_deref().ok_or_else(|| Error::bad_input("feature", "is required for architect: describe what to build", None))?;
            let config = app.config()?;
            let report = architect::run(app.workspace(), &config, feature, |spec| architect::estimate(&config, spec))?;
            let names: Vec<String> =
                report.components.iter().map(|c| format!("{} ({})", c["name"].as_str().unwrap_or(""), c["type"].as_str().unwrap_or(""))).collect();
            let cost = report.monthly_cost.map(|c| format!(" Estimated ${c:.2}/month at default usage.")).unwrap_or_default();
            let summary = format!(
                "Wrote designs/{} with {} component(s): {}.{cost} Review it (edit the design block if needed), then run engineer.",
                report.design,
                names.len(),
                names.join(", ")
            );
            Ok(Reply::ok(summary, serde_json::to_value(&report).expect("reports serialise")))
        }
        InfraOperation::Engineer => {
            let config = app.config()?;
            let ws = app.workspace();
            let design = match &req.design {
                Some(d) => d.clone(),
                None => engineer::list_designs(ws)
                    .into_iter()
                    .next()
                    .ok_or_else(|| Error::bad_input("design", "no design document yet", Some("run architect first, or name one with design".into())))?,
            };
            let (name, spec) = engineer::load_design(ws, &design)?;
            let report = engineer::write(ws, &config, &name, &spec, req.force)?;
            let changed: Vec<String> = report.files.iter().filter(|f| f.status != "unchanged").map(|f| format!("{} ({})", f.file, f.status)).collect();
            let summary = format!(
                "Generated Terraform for design {name} in {}: {} resource(s); {}.",
                report.directory.display(),
                report.resources,
                if changed.is_empty() { "no file changed".to_string() } else { changed.join(", ") }
            );
            Ok(Reply::ok(summary, serde_json::to_value(&report).expect("reports serialise")))
        }
        InfraOperation::ValidateConfig => {
            let config = app.config()?;
            let options = config.scan.clone().unwrap_or_default();
            let report = validate::run(app.workspace().project_dir(), &config, &env, &options).await?;
            let worst =
                report.diagnostics.first().map(|d| format!(" Worst: {} {} at {}:{}.", d.severity.as_str(), d.rule_id, d.file, d.line)).unwrap_or_default();
            let summary = format!(
                "{} for env {env}: {} file(s), {} resource(s), {} diagnostic(s); {}.{worst}",
                if report.valid { "Valid" } else { "Invalid" },
                report.files.len(),
                report.resources,
                report.diagnostics.len(),
                report.terraform.detail
            );
            let body = serde_json::to_value(&report).expect("reports serialise");
            if report.valid { Ok(Reply::ok(summary, body)) } else { Err(Error::Invalid { summary, body: Box::new(body) }) }
        }
        InfraOperation::Test if req.phase.as_deref() == Some("post-deployment") => {
            let config = app.config()?;
            deploy::post_deployment(app, &config, &env).await
        }
        InfraOperation::Test => {
            let config = app.config()?;
            let options = config.scan.clone().unwrap_or_default();
            let report = test::run(app.workspace(), &config, &env, &options).await?;
            let lines: Vec<String> = report.tests.iter().map(|t| format!("{:?} {}: {}", t.status, t.name, t.summary)).collect();
            let summary =
                format!("Pre-deployment tests for {env}: {:?}.\n{}\nReport: {}", report.overall_status, lines.join("\n"), report.report_path.display());
            Ok(Reply::ok(summary, serde_json::to_value(&report).expect("reports serialise")))
        }
        InfraOperation::PreviewChanges => {
            let config = app.config()?;
            let report = preview::run(app.workspace(), &config, &env).await?;
            let destructive = report.summary.destructive().count();
            let warn = if destructive > 0 { format!("\n⚠ {destructive} destructive change(s): review them before deploying.") } else { String::new() };
            let summary = format!(
                "Preview for {env}: {}.\n{}\nCost impact: {}.{warn}\nSaved plan {} ({}).",
                report.summary.counts(),
                report.summary.text(),
                report.cost_impact.summary(),
                report.plan_file.display(),
                report.digest
            );
            Ok(Reply::ok(summary, serde_json::to_value(&report).expect("reports serialise")))
        }
        InfraOperation::ShowResources => {
            let config = app.config()?;
            let report = resources::run(app.workspace(), &config, &env).await?;
            let mut lines: Vec<String> = report
                .resources
                .iter()
                .take(50)
                .map(|r| {
                    format!("{} {} ({})", r.kind, r.name.as_deref().or(r.id.as_deref()).unwrap_or("-"), r.arn.as_deref().or(r.id.as_deref()).unwrap_or("-"))
                })
                .collect();
            if report.count > 50 {
                lines.push(format!("… and {} more (all in the structured result)", report.count - 50));
            }
            let summary = format!("{} resource(s) deployed in {env} (from the {}):\n{}", report.count, report.source, lines.join("\n"));
            Ok(Reply::ok(summary, serde_json::to_value(&report).expect("reports serialise")))
        }
        InfraOperation::Deploy => {
            let config = app.config()?;
            let opts = deploy::Options { skip_tests: req.skip_tests, skip_preview: req.skip_preview, auto_approve: req.auto_approve };
            deploy::start(app, &config, &env, opts).await
        }
        InfraOperation::Debug => {
            let config = app.config()?;
            let message = req.error.as_deref().ok_or_else(|| Error::bad_input("error", "is required for debug: the error message to analyse", None))?;
            let diagnosis = crate::infra::debug::classify(message);
            // The deploy principal, when the message does not name one and a fix needs it.
            let needs_caller = diagnosis.suggested_solutions.iter().any(|s| s.permission_fix.as_ref().is_some_and(|f| f.principal.is_none()));
            let caller = if needs_caller { crate::cloud::Cloud::connect(&config, &env).await.caller().await.ok().map(|c| c.arn) } else { None };
            let report = diagnose::record(app.workspace(), &env, message, caller.as_deref(), false, chrono::Utc::now())?;
            let summary = diagnose::summary(&report);
            let mut body = serde_json::to_value(&report).expect("reports serialise");
            if let Some(fix) = &report.fix {
                let pending = diagnose::request_fix(app, &config, fix).await?;
                body["fix_pending"] = pending.body.clone();
                return Ok(Reply {
                    summary: format!(
                        "{summary}

{}",
                        pending.summary
                    ),
                    body: merge_status(body, &pending),
                    ..pending
                });
            }
            Ok(Reply::ok(summary, body))
        }
    }
}

/// `body` with the pending reply's status (awaiting_confirmation) and operation id on top.
fn merge_status(mut body: serde_json::Value, pending: &Reply) -> serde_json::Value {
    for key in ["status", "operation_id", "banner", "steps_required", "steps_done", "expires_at", "how_to_answer"] {
        if let Some(v) = pending.body.get(key) {
            body[key] = v.clone();
        }
    }
    body
}

fn accepted() -> String {
    InfraOperation::ALL.iter().map(|o| o.as_str()).collect::<Vec<_>>().join(", ")
}
