//! The infrastructure skills (architect → engineer → validate-config → test →
//! preview-changes → deploy → show-resources → debug) and their request type.
//!
//! Each operation is a closed enum variant; [`run`] is the one dispatch.

pub mod architect;
pub mod backend;
pub mod catalog;
pub mod debug;
pub mod deploy;
pub mod design;
pub mod destroy;
pub mod diagnose;
pub mod endpoints;
pub mod engineer;
pub mod handedit;
pub mod hclfmt;
pub mod package;
pub mod preview;
pub mod promotion;
pub mod registry;
pub mod remembered;
pub mod resources;
pub mod test;
pub mod validate;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::Error;
use crate::vocabulary::{Phase, Reply, Report, input};
use crate::workspace::Workspace;

pub use crate::vocabulary::InfraOperation;

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
    /// engineer: overwrite generated files even if they were edited by hand (the same as hand_edits "overwrite").
    #[arg(long)]
    #[serde(default)]
    pub force: bool,
    /// engineer, when a generated file was edited by hand: "adopt" keeps the edits (in adopted_override.tf,
    /// adopted.tf and the variable files) and writes the rest; "overwrite" drops them. Without it, engineer shows
    /// the diff and writes nothing.
    #[arg(long, value_enum)]
    #[serde(default)]
    pub hand_edits: Option<engineer::HandEdits>,
    /// preview-changes, deploy: keep the rollbacks and scales made since the last deploy that the plan would undo,
    /// by writing their values into the environment's variable file, then plan again.
    #[arg(long)]
    #[serde(default)]
    pub keep_remediations: bool,
    /// preview-changes, deploy, in an environment deployed to several regions: one of its regions (default: all,
    /// the primary first).
    #[arg(long)]
    #[serde(default)]
    pub region: Option<String>,
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
    /// deploy, CLI in CI only (CI=true): the environment this run is approved for, e.g. --ci-approve prod. A
    /// protected environment deploys without a person's "yes" only when it is named here; the approval is audited
    /// with the CI run's identity. Never for a plan that loses data.
    #[arg(long, value_name = "ENV")]
    #[serde(skip)]
    #[schemars(skip)]
    pub ci_approve: Option<String>,
    /// preview-changes, CLI only: the text (default) or Markdown for a pull request comment.
    #[arg(long, value_enum, value_name = "FORMAT")]
    #[serde(skip)]
    #[schemars(skip)]
    pub format: Option<PreviewFormat>,
    /// debug: the error message to analyse (default: the error the last failed deploy of the environment ended with).
    #[arg(long)]
    #[serde(default)]
    pub error: Option<String>,
    /// test: pre-deployment (default) or post-deployment.
    #[arg(long, value_enum)]
    #[serde(default)]
    pub phase: Option<Phase>,
}

/// What `infra-manager` returns: one report type per operation.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant, reason = "one value per request")]
pub enum InfraReport {
    Architect(architect::ArchitectReport),
    Engineer(engineer::EngineerReport),
    ValidateConfig(validate::ValidateReport),
    Test(test::TestReport),
    PostDeployment(deploy::PostDeploymentReport),
    PreviewChanges(Prepared<preview::PreviewReport>),
    Deploy(Prepared<deploy::Deployed>),
    ShowResources(resources::ResourcesReport),
    Debug(diagnose::Debugged),
    Destroy(Prepared<destroy::Destroying>),
    /// The preview did not start: its state bucket is missing, offered for creation.
    BackendMissing(backend::BackendMissing),
}

crate::report_enum!(InfraReport {
    Architect,
    Engineer,
    ValidateConfig,
    Test,
    PostDeployment,
    PreviewChanges,
    Deploy,
    ShowResources,
    Debug,
    Destroy,
    BackendMissing
});

/// How the CLI prints a preview.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PreviewFormat {
    Text,
    Markdown,
}

/// The CI run's identity, for `--ci-approve NAMED` on a deploy of `env`: only in CI (`CI` set to true or 1), and
/// only naming this very environment.
fn ci_approval(named: &str, env: &str) -> Result<String, Error> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if !var("CI").is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1") {
        return Err(Error::bad_input(
            "ci-approve",
            "works only in CI (CI=true), where no person can answer; here, confirm the pending operation instead (faber-cloud confirm <id> yes)",
            None,
        ));
    }
    if named != env {
        return Err(Error::bad_input("ci-approve", format!("names {named}, but this deploy is for {env}"), Some(env.to_string())));
    }
    let identity = match (var("GITHUB_REPOSITORY"), var("GITHUB_RUN_ID")) {
        (Some(repo), Some(run)) => format!(
            "GitHub Actions run {run} of {repo}{}{}",
            var("GITHUB_WORKFLOW").map(|w| format!(" (workflow {w})")).unwrap_or_default(),
            var("GITHUB_ACTOR").map(|a| format!(", started by {a}")).unwrap_or_default()
        ),
        _ => ["CI_PIPELINE_ID", "BUILD_ID", "CIRCLE_WORKFLOW_ID", "BUILDKITE_BUILD_ID"]
            .iter()
            .find_map(|k| var(k).map(|v| format!("CI run {k}={v}")))
            .unwrap_or_else(|| "a CI run that gave no run id".into()),
    };
    Ok(crate::redact::redact(&identity))
}

/// A report with the environment files written from devops.json before the operation ran.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Prepared<R> {
    /// Files generated first because the environment was added to devops.json after engineer ran.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub generated: Vec<String>,
    #[serde(flatten)]
    pub report: R,
}

impl<R: Report> Report for Prepared<R> {
    fn status(&self) -> crate::vocabulary::Status {
        self.report.status()
    }
    fn text(&self) -> String {
        if self.generated.is_empty() {
            return self.report.text();
        }
        format!("Generated {} from devops.json first (the environment was added after engineer ran).\n{}", self.generated.join(" and "), self.report.text())
    }
}

/// Runs one infrastructure operation.
pub async fn run(ws: &Workspace, req: &InfraRequest) -> Result<InfraReport, Error> {
    let operation = req.operation.ok_or_else(|| Error::bad_input("operation", "is required", Some(accepted())))?;
    let config = Config::load(ws)?;
    let env = config.target_env(req.env.as_deref())?;
    if let Some(feature) = &req.feature {
        input::text("feature", feature, 2000)?;
    }
    if let Some(design) = &req.design {
        input::design_name(design)?;
    }
    if let Some(error) = &req.error {
        input::text("error", error, 20_000)?;
    }
    // An environment added to devops.json after engineer ran gets its var and backend files first.
    let generated = match operation {
        InfraOperation::PreviewChanges | InfraOperation::Deploy | InfraOperation::Destroy => {
            engineer::check_regions(ws, &config, &env)?;
            engineer::ensure_env_files(ws, &config, &env)?
        }
        _ => Vec::new(),
    };
    // A preview needs the state's bucket (deploy and destroy check it themselves, under their lock).
    if operation == InfraOperation::PreviewChanges {
        let cloud = crate::cloud::Cloud::connect(&config, &env).await;
        let caller = cloud.checked_caller(&config).await?;
        if let Some(missing) = backend::check(ws, &config, &env, &cloud, &caller, &format!("preview-changes --env {env}")).await? {
            return Ok(InfraReport::BackendMissing(missing));
        }
    }
    Ok(match operation {
        InfraOperation::Architect => {
            let feature = req.feature.as_deref().ok_or_else(|| Error::bad_input("feature", "is required for architect: describe what to build", None))?;
            InfraReport::Architect(architect::run(ws, &config, feature, |spec| architect::estimate(&config, spec))?)
        }
        InfraOperation::Engineer => {
            let design = match &req.design {
                Some(d) => d.clone(),
                None => engineer::list_designs(ws)
                    .into_iter()
                    .next()
                    .ok_or_else(|| Error::bad_input("design", "no design document yet", Some("run architect first, or name one with design".into())))?,
            };
            let (name, spec) = engineer::load_design(ws, &design)?;
            InfraReport::Engineer(engineer::write(ws, &config, &name, &spec, req.hand_edits.or(req.force.then_some(engineer::HandEdits::Overwrite)))?)
        }
        InfraOperation::ValidateConfig => {
            let options = config.scan.clone().unwrap_or_default();
            let report = validate::run(ws.project_dir(), &config, &env, &options).await?;
            if !report.valid {
                return Err(Error::invalid(&report));
            }
            InfraReport::ValidateConfig(report)
        }
        InfraOperation::Test => match req.phase.unwrap_or_default() {
            Phase::PostDeployment => InfraReport::PostDeployment(deploy::post_deployment(ws, &config, &env).await?),
            Phase::PreDeployment => {
                let report = test::run(ws, &config, &env, &config.scan.clone().unwrap_or_default(), validate::TerraformValidate::Run).await?;
                // FAIL is an answer the caller must not miss: a tool error (exit 1) with the whole report.
                if report.overall_status == test::Status::Fail {
                    return Err(Error::invalid(&report));
                }
                InfraReport::Test(report)
            }
        },
        InfraOperation::PreviewChanges => InfraReport::PreviewChanges(Prepared {
            generated: generated.clone(),
            report: preview::run(ws, &config, &env, req.keep_remediations, req.region.as_deref()).await?,
        }),
        InfraOperation::ShowResources => InfraReport::ShowResources(resources::run(ws, &config, &env).await?),
        InfraOperation::Deploy => {
            let ci_approval = req.ci_approve.as_deref().map(|named| ci_approval(named, &env)).transpose()?;
            let opts = deploy::Options {
                skip_tests: req.skip_tests,
                skip_preview: req.skip_preview,
                auto_approve: req.auto_approve,
                ci_approval,
                keep_remediations: req.keep_remediations,
                region: req.region.clone(),
            };
            InfraReport::Deploy(Prepared { generated: generated.clone(), report: deploy::start(ws, &config, &env, opts).await? })
        }
        InfraOperation::Destroy => InfraReport::Destroy(Prepared { generated: generated.clone(), report: destroy::start(ws, &config, &env).await? }),
        InfraOperation::Debug => {
            // Without a message, the error the last failed deploy of this environment ended with.
            let last_failed = match req.error {
                Some(_) => None,
                None => diagnose::last_failed_deploy(ws, &env)?,
            };
            let message = req.error.as_deref().or(last_failed.as_deref()).ok_or_else(|| {
                Error::bad_input("error", format!("is required for debug: no failed deploy of {env} is recorded, so give the error message to analyse"), None)
            })?;
            let diagnosis = debug::classify(message);
            // The deploy principal, when the message does not name one and a fix needs it.
            let needs_caller = diagnosis.suggested_solutions.iter().any(|s| s.permission_fix.as_ref().is_some_and(|f| f.principal.is_none()));
            let caller = if needs_caller { crate::cloud::Cloud::connect(&config, &env).await.caller().await.ok().map(|c| c.arn) } else { None };
            let report = diagnose::record(ws, &env, message, caller.as_deref(), false, chrono::Utc::now())?;
            let pending = match &report.fix {
                Some(fix) => Some(diagnose::request_fix(ws, &config, fix)?),
                None => None,
            };
            let fix_pending = pending.clone().map(|p| Reply { status: p.status(), report: p });
            InfraReport::Debug(diagnose::Debugged { report, fix_pending, awaiting: pending })
        }
    })
}

fn accepted() -> String {
    InfraOperation::ALL.iter().map(|o| o.as_str()).collect::<Vec<_>>().join(", ")
}
