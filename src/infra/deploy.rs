//! deploy: pre-deployment tests → preview (a saved plan and its digest) →
//! approval through the gate → apply exactly that plan → verify with AWS →
//! post-deployment tests → health → registry → DEPLOYED.md.
//!
//! [`start`] runs the steps up to the gate; when the gate waits for a human,
//! `confirm` resumes with [`execute`], which needs the `Approval`. One deploy
//! per environment at a time (a lock held by each half); every step is
//! audited with the AWS caller (STS). A failed apply runs the debugger, and a
//! permission error comes back with its least-privilege fix waiting at the gate.

use std::path::PathBuf;

use chrono::Utc;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::cloud::verify::{self, Presence, Verified};
use crate::cloud::{Caller, Cloud};
use crate::config::Config;
use crate::error::Error;
use crate::gate::{Approval, BannerFacts, ChangeCounts, EnvPolicy, Gate, GateRequest, Gated, Pending, Requested, StoredAction};
use crate::iac::terraform::{self, Applied, Terraform};
use crate::infra::test::{Status, TestResult};
use crate::infra::{backend, diagnose, preview, promotion, registry, resources, test, validate};
use crate::progress;
use crate::vocabulary::{ActionKind, Phase, Reply, Report};
use crate::workspace::{AuditEntry, Outcome, Workspace};

pub const STEPS: u32 = 9;

/// What deploy was asked to do.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub skip_tests: bool,
    pub skip_preview: bool,
    pub auto_approve: bool,
    /// The CI run that approved this deploy with `--ci-approve ENV` (checked by the caller), by its identity.
    pub ci_approval: Option<String>,
    /// Keep the remediations the plan would undo ([`preview::run`]'s `keep`).
    pub keep_remediations: bool,
    /// One region of a multi-region environment ([`preview::run`]'s `only`).
    pub region: Option<String>,
}

/// What an approval of a deploy runs; stored with the pending operation.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DeployAction {
    pub env: String,
    pub plan_file: PathBuf,
    pub digest: String,
    pub changes: ChangeCounts,
    /// Steps 1–3 as they went, carried into the final report.
    pub steps: Vec<Step>,
    /// The code going out ([`promotion::code_digest`]), recorded for the environment once applied.
    #[serde(default)]
    pub code_digest: String,
    /// A multi-region environment: each other region's saved plan, applied after the primary's, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_regions: Vec<preview::SavedRegion>,
    /// A multi-region environment: the region of `plan_file` (the primary, unless one region was asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// What an approval binds to: the primary plan's digest alone, or with every other region's (in order).
fn gate_digest(primary: &str, others: &[preview::SavedRegion]) -> String {
    preview::bound_digest(primary, others.iter().map(|r| (r.region.as_str(), r.digest.as_str())))
}

impl Gated for DeployAction {
    const KIND: ActionKind = ActionKind::Deploy;
}

/// One step of the pipeline as it went.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Step {
    pub n: u32,
    pub name: String,
    pub status: StepStatus,
    pub detail: String,
}

/// How a step of the pipeline went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    Ok,
    Skipped,
    Warn,
    Failed,
}

impl StepStatus {
    fn as_str(self) -> &'static str {
        match self {
            StepStatus::Ok => "ok",
            StepStatus::Skipped => "skipped",
            StepStatus::Warn => "warn",
            StepStatus::Failed => "failed",
        }
    }

    fn of(test: Status) -> StepStatus {
        match test {
            Status::Pass => StepStatus::Ok,
            Status::Warn => StepStatus::Warn,
            Status::Fail => StepStatus::Failed,
        }
    }
}

fn step(steps: &mut Vec<Step>, n: u32, name: &str, status: StepStatus, detail: impl Into<String>) {
    let detail = detail.into();
    progress::step(n, STEPS, &format!("{name}: {} — {detail}", status.as_str()));
    steps.push(Step { n, name: name.into(), status, detail });
}

fn step_lines(steps: &[Step]) -> String {
    steps.iter().map(|s| format!("{}. {} — {}: {}", s.n, s.name, s.status.as_str(), s.detail)).collect::<Vec<_>>().join("\n")
}

/// A deploy that reached the gate, or one that ran to the end.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant, reason = "one value per request")]
pub enum Deployed {
    Pending(DeployPending),
    Done(DeployReport),
    /// The deploy did not start: its state bucket is missing, offered for creation.
    BackendMissing(backend::BackendMissing),
}

crate::report_enum!(Deployed { Pending, Done, BackendMissing });

/// A deploy waiting at the gate: the pending operation and the steps so far.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DeployPending {
    #[serde(flatten)]
    pub pending: Pending,
    pub deploy: DeployProgress,
}

/// Steps 1–3 of a deploy that waits for its approval.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DeployProgress {
    pub steps: Vec<Step>,
    pub plan_file: PathBuf,
    pub changes: ChangeCounts,
    /// Estimated monthly cost impact in dollars (absent with skip_preview).
    pub cost_impact: Option<f64>,
    /// The plan's change list as text (shown before the banner).
    pub preview: String,
}

impl Report for DeployPending {
    fn status(&self) -> crate::vocabulary::Status {
        self.pending.status()
    }
    fn text(&self) -> String {
        if self.deploy.preview.is_empty() { self.pending.text() } else { format!("{}\n\n{}", self.deploy.preview, self.pending.text()) }
    }
}

/// A finished deploy: what was applied, verified, tested and registered.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DeployReport {
    pub env: String,
    /// What the apply did; absent when the plan changed nothing.
    pub applied: Option<Applied>,
    pub plan_file: PathBuf,
    pub digest: String,
    pub caller: Caller,
    pub steps: Vec<Step>,
    pub verification: Vec<Verified>,
    pub post_deployment: PostDeploymentOutcome,
    pub health: BasicHealth,
    pub registry: PathBuf,
    pub deployed_md: PathBuf,
    pub resource_count: usize,
    /// Fixes applied earlier whose outcome this deploy settled: (solution, worked).
    pub fix_outcomes: Vec<(String, bool)>,
}

/// The post-deployment tests' verdict and where their report is.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PostDeploymentOutcome {
    pub status: Status,
    pub report: PathBuf,
}

/// Step 7: HEALTHY unless an alarm of this deployment is in ALARM or a function is not Active.
#[derive(Debug, Serialize, JsonSchema)]
pub struct BasicHealth {
    pub status: HealthStatus,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum HealthStatus {
    Healthy,
    Degraded,
    Unhealthy,
}

impl HealthStatus {
    fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Healthy => "HEALTHY",
            HealthStatus::Degraded => "DEGRADED",
            HealthStatus::Unhealthy => "UNHEALTHY",
        }
    }
}

impl Report for DeployReport {
    fn text(&self) -> String {
        let headline = match &self.applied {
            Some(a) => format!("Deployed to {}: +{} ~{} -{}; {} resource(s) registered.", self.env, a.add, a.change, a.remove, self.resource_count),
            None => format!(
                "Nothing to deploy to {}: the infrastructure matches the configuration; {} resource(s) verified and registered.",
                self.env, self.resource_count
            ),
        };
        let mut out = format!("{headline}\n{}", step_lines(&self.steps));
        if self.post_deployment.status == Status::Fail {
            out.push_str("\nThe apply went through, but the post-deployment tests FAIL: see the report.");
        }
        out
    }
}

/// A deploy whose apply failed: what ran, what the debugger says, and the fix waiting at the gate.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ApplyFailedReport {
    pub env: String,
    pub failed_step: &'static str,
    pub command: String,
    pub exit_status: Option<i32>,
    pub steps: Vec<Step>,
    pub debug: diagnose::DebugReport,
    /// The least-privilege fix waiting for a "yes", for a permission error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix_pending: Option<Reply<Pending>>,
    #[serde(skip)]
    message: String,
}

impl Report for ApplyFailedReport {
    fn text(&self) -> String {
        let mut out = format!("Deploy to {} FAILED at apply ({}).\n{}\n\nDebug: {}", self.env, self.command, self.message, self.debug.text());
        if let Some(p) = &self.fix_pending {
            out.push_str(&format!("\n\n{}", p.report.text()));
        }
        out
    }
}

/// Pre-deployment tests that stopped a deploy.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TestsFailed {
    pub env: String,
    pub steps: Vec<Step>,
    pub pre_deployment: test::TestReport,
}

impl Report for TestsFailed {
    fn text(&self) -> String {
        let failing: Vec<String> =
            self.pre_deployment.tests.iter().filter(|t| t.status == Status::Fail).map(|t| format!("{}: {}", t.name, t.summary)).collect();
        format!(
            "Deploy to {} stopped: the pre-deployment tests FAIL ({}). Nothing was applied. Report: {}",
            self.env,
            failing.join("; "),
            self.pre_deployment.report_path.display()
        )
    }
}

/// One deploy or teardown of an environment at a time.
pub(crate) fn lock(ws: &Workspace, env: &str) -> Result<crate::workspace::FileLock, Error> {
    ws.try_lock(&format!("deploy-{env}"), &format!("deploy to {env}"))?.map_err(|holder| Error::Busy { what: format!("a deploy to {env}"), holder })
}

fn audit(
    ws: &Workspace,
    env: &str,
    outcome: Outcome,
    caller: Option<&Caller>,
    detail: impl Into<String>,
    digest: Option<&str>,
    id: Option<&str>,
) -> Result<(), Error> {
    let mut e = AuditEntry::new("deploy", env, outcome);
    e.aws_caller = caller.map(|c| c.arn.clone());
    e.detail = Some(detail.into());
    e.digest = digest.map(str::to_string);
    e.operation_id = id.map(str::to_string);
    Ok(ws.audit(&e)?)
}

/// Connects as the environment and checks who that is; audits the request under `operation`, or its refusal
/// (a missing profile, another account) before anything ran.
pub(crate) async fn requested(ws: &Workspace, config: &Config, env: &str, operation: &str) -> Result<(Cloud, Caller), Error> {
    let cloud = Cloud::connect(config, env).await;
    let record = |outcome, caller: Option<&Caller>, detail: String| {
        let mut e = AuditEntry::new(operation, env, outcome);
        e.aws_caller = caller.map(|c| c.arn.clone());
        e.detail = Some(detail);
        ws.audit(&e)
    };
    match cloud.checked_caller(config).await {
        Ok(caller) => {
            record(Outcome::Requested, Some(&caller), format!("{operation} requested (profile {})", cloud.target.profile().unwrap_or("default credentials")))?;
            Ok((cloud, caller))
        }
        Err(e) => {
            record(Outcome::Refused, None, e.to_string())?;
            Err(e)
        }
    }
}

/// Steps 1–3: tests, preview, and the gate. Runs the rest at once when the gate approves.
pub async fn start(ws: &Workspace, config: &Config, env: &str, opts: Options) -> Result<Deployed, Error> {
    let protected = config.is_protected(env);
    if protected && opts.skip_tests {
        return Err(Error::bad_input(
            "skip_tests",
            format!("is refused for the protected environment {env}: its deploys always run the pre-deployment tests"),
            None,
        ));
    }
    if protected && opts.skip_preview {
        return Err(Error::bad_input("skip_preview", format!("is refused for the protected environment {env}: its deploys always show a fresh preview"), None));
    }
    let _lock = lock(ws, env)?;
    let (cloud, caller) = requested(ws, config, env, "deploy").await?;
    if let Some(missing) = backend::check(ws, config, env, &cloud, &caller, &format!("deploy --env {env}")).await? {
        return Ok(Deployed::BackendMissing(missing));
    }
    let mut steps = Vec::new();

    // 1. Pre-deployment tests.
    if opts.skip_tests {
        step(&mut steps, 1, "pre-deployment tests", StepStatus::Skipped, "skip_tests was given");
    } else {
        progress::step(1, STEPS, "pre-deployment tests: running");
        // The plan of step 2 validates the configuration: no separate terraform validate here.
        let report = test::run(ws, config, env, &config.scan.clone().unwrap_or_default(), validate::TerraformValidate::DeferToPlan).await?;
        let detail = format!("{:?}; report {}", report.overall_status, report.report_path.display());
        if report.overall_status == Status::Fail {
            step(&mut steps, 1, "pre-deployment tests", StepStatus::Failed, detail);
            audit(ws, env, Outcome::Failed, Some(&caller), "stopped: pre-deployment tests FAIL", None, None)?;
            return Err(Error::invalid(&TestsFailed { env: env.into(), steps, pre_deployment: report }));
        }
        step(&mut steps, 1, "pre-deployment tests", StepStatus::of(report.overall_status), detail);
    }

    // 2. Preview: a fresh saved plan, or the last one with skip_preview.
    let (plan_file, digest, changes, cost, text, data_loss, reverts, other_regions, plan_region) = if opts.skip_preview {
        let latest = ws.path(&format!("plans/{env}/latest.json"))?;
        let saved: preview::SavedPlan = std::fs::read_to_string(&latest).ok().and_then(|t| serde_json::from_str(&t).ok()).ok_or_else(|| {
            Error::bad_input(
                "skip_preview",
                format!("there is no saved preview for {env} to deploy"),
                Some("run preview-changes first, or deploy without skip_preview".into()),
            )
        })?;
        let changes = ChangeCounts { add: saved.add as u32, change: saved.change as u32, destroy: saved.destroy as u32 };
        step(&mut steps, 2, "preview", StepStatus::Skipped, format!("using the saved plan from {} ({})", saved.created_at, counts(changes)));
        (saved.plan_file, saved.digest, changes, None, String::new(), saved.data_loss, saved.reverts, saved.other_regions, saved.region)
    } else {
        progress::step(2, STEPS, "preview: planning");
        let report = preview::run(ws, config, env, opts.keep_remediations, opts.region.as_deref()).await?;
        let s = &report.summary;
        let changes = ChangeCounts { add: s.add as u32, change: s.change as u32, destroy: s.destroy as u32 };
        let detail = if report.other_regions.is_empty() {
            format!("{}; cost impact {}", s.counts(), report.cost_impact.summary())
        } else {
            let per: Vec<String> = std::iter::once(format!("{} {}; cost impact {}", report.region, s.counts(), report.cost_impact.summary()))
                .chain(report.other_regions.iter().map(|r| format!("{} {}; cost impact {}", r.region, r.summary.counts(), r.cost_impact.summary())))
                .collect();
            per.join(" | ")
        };
        step(&mut steps, 2, "preview", StepStatus::Ok, detail);
        let text = format!("{}\n{}", s.counts(), s.text());
        let data_loss = s.data_loss();
        let text =
            if report.reverts.is_empty() { text } else { format!("{text}\n⚠ This plan {}\n{}", report.reverts.join("\n⚠ This plan "), preview::KEEP_HINT) };
        let text = if report.kept.is_empty() { text } else { format!("{text}\nKept: {}", report.kept.join("\nKept: ")) };
        let others: Vec<preview::SavedRegion> = report.other_regions.iter().map(preview::RegionPreview::saved).collect();
        let cost = report.cost_impact.after - report.cost_impact.before + report.other_regions.iter().map(|r| r.cost_impact.delta).sum::<f64>();
        let text = if report.other_regions.is_empty() {
            text
        } else {
            let mut text = format!("{}: {text}", report.region);
            for r in &report.other_regions {
                text.push_str(&format!("\n\n{}: {}\n{}", r.region, r.summary.counts(), r.summary.text()));
            }
            text
        };
        let plan_region = (config.regions(env).len() > 1).then(|| report.region.clone());
        (report.plan_file, report.digest, changes, Some(cost), text, data_loss, report.reverts, others, plan_region)
    };
    // Every region's changes count, and every region's data loss is named.
    let primary_changes = changes;
    let changes = other_regions.iter().map(preview::SavedRegion::counts).fold(changes, |c, r| ChangeCounts {
        add: c.add + r.add,
        change: c.change + r.change,
        destroy: c.destroy + r.destroy,
    });
    let mut data_loss = data_loss;
    for r in &other_regions {
        data_loss.extend(r.data_loss.iter().map(|d| format!("[{}] {d}", r.region)));
    }
    let regions = config.regions(env);

    // The code going out (the packages were built by the preview).
    let code_digest = promotion::code_digest(&validate::directory(ws.project_dir(), config)?)?;

    // Nothing to change: no approval needed; verify and document what is there.
    if changes.add + changes.change + changes.destroy == 0 {
        step(&mut steps, 3, "approval", StepStatus::Skipped, "the plan changes nothing");
        step(&mut steps, 4, "apply", StepStatus::Skipped, "nothing to apply");
        drop(_lock);
        let action = DeployAction { env: env.into(), plan_file, digest, changes, steps, code_digest: code_digest.clone(), other_regions, region: plan_region };
        return Ok(Deployed::Done(finish(ws, config, &cloud, &caller, action, None, None).await?));
    }

    // 3. The gate.
    let promotion = promotion::note(ws, config, env, &code_digest);
    let facts = BannerFacts {
        env: env.into(),
        operation: "deploy".into(),
        summary: if other_regions.is_empty() {
            format!("Apply the saved plan {} to {env}: {}.", plan_file.display(), counts(changes))
        } else {
            let per: Vec<String> = std::iter::once(format!("{} {}", plan_region.as_deref().unwrap_or(&regions[0]), counts(primary_changes)))
                .chain(other_regions.iter().map(|r| format!("{} {}", r.region, counts(r.counts()))))
                .collect();
            format!("Apply the saved plans to {env} in {} region(s), one after the other, stopping at the first failure: {}.", regions.len(), per.join("; "))
        },
        changes: Some(changes),
        cost_impact: cost,
        account: Some(caller.account.clone()),
        region: Some(match &plan_region {
            Some(r) if other_regions.is_empty() => r.clone(),
            Some(r) => std::iter::once(r.clone()).chain(other_regions.iter().map(|o| o.region.clone())).collect::<Vec<_>>().join(", "),
            None => cloud.target.region.clone(),
        }),
        profile: cloud.target.profile().map(str::to_string),
        data_loss: data_loss.clone(),
        reverts,
        promotion,
    };
    let bound = gate_digest(&digest, &other_regions);
    let action = DeployAction { env: env.into(), plan_file, digest, changes, steps, code_digest, other_regions, region: plan_region.clone() };
    drop(_lock);
    let request = GateRequest { facts, digest: bound, action: StoredAction::of(&action) };
    // A plan that deletes data, or undoes a remediation, always waits for a person, whatever auto_approve says.
    let (policy, auto_approve) = match EnvPolicy::of(config, env)? {
        p if !data_loss.is_empty() || !request.facts.reverts.is_empty() => (p.always_confirm(), false),
        p => (p, opts.auto_approve),
    };
    let gate = Gate::for_config(ws, config);
    // A CI run's approval covers the plan it shows, never one that loses data or undoes a remediation.
    if let Some(identity) = &opts.ci_approval
        && data_loss.is_empty()
        && request.facts.reverts.is_empty()
    {
        let approval = gate.approve_in_ci(request, identity, Utc::now())?;
        let mut action = action;
        step(&mut action.steps, 3, "approval", StepStatus::Ok, format!("approved in CI: {identity}"));
        return Ok(Deployed::Done(execute(ws, approval, action).await?));
    }
    match gate.request(policy, auto_approve, request, Utc::now())? {
        Requested::Approved(approval) => {
            let mut action = action;
            step(&mut action.steps, 3, "approval", StepStatus::Ok, "auto-approved (unprotected environment)");
            Ok(Deployed::Done(execute(ws, approval, action).await?))
        }
        Requested::Pending(op) => {
            progress::step(3, STEPS, &format!("approval: waiting for confirmation ({} of {})", op.steps_done + 1, op.steps_required));
            let deploy = DeployProgress { steps: action.steps, plan_file: action.plan_file, changes, cost_impact: cost, preview: text };
            Ok(Deployed::Pending(DeployPending { pending: Pending::from(&op), deploy }))
        }
    }
}

fn counts(c: ChangeCounts) -> String {
    format!("+{} ~{} -{}", c.add, c.change, c.destroy)
}

/// How a deploy watches its AWS endpoint while terraform applies: a check every
/// 30 s, 20 s to answer, three misses in a row stop the apply (about two minutes).
const WATCH_EVERY: std::time::Duration = std::time::Duration::from_secs(30);
const WATCH_WAIT: std::time::Duration = std::time::Duration::from_secs(20);
const WATCH_MISSES: u32 = 3;

/// Steps 4–9, with the approval in hand.
pub async fn execute(ws: &Workspace, approval: Approval, mut action: DeployAction) -> Result<DeployReport, Error> {
    let config = Config::load(ws)?;
    let env = action.env.clone();
    let _lock = lock(ws, &env)?;
    // The re-checks: same environment, the plan file unchanged, not expired; the environment's own
    // credentials (never discover), in the configured account.
    let mut current_others = action.other_regions.clone();
    for r in &mut current_others {
        r.digest = preview::digest_file(&r.plan_file)?;
    }
    let current = gate_digest(&preview::digest_file(&action.plan_file)?, &current_others);
    approval.check(&env, &current, Utc::now())?;
    let cloud = Cloud::connect(&config, &env).await;
    let caller = cloud.checked_caller(&config).await?;
    if !action.steps.iter().any(|s| s.n == 3) {
        step(&mut action.steps, 3, "approval", StepStatus::Ok, format!("confirmed (operation {})", approval.id()));
    }
    audit(ws, &env, Outcome::Executed, Some(&caller), format!("applying {}", action.plan_file.display()), Some(approval.digest()), Some(approval.id()))?;

    // 4. Apply exactly the approved plan.
    progress::step(4, STEPS, "apply: running terraform apply of the approved plan");
    let dir = validate::directory(ws.project_dir(), &config)?;
    let applied = {
        let _tf = terraform::lock(ws, &env)?;
        let top = action.region.clone().unwrap_or_else(|| config.primary_region(&env));
        let terraform = crate::infra::engineer::terraform_ready(&config, &dir, &env, &top).await?;
        let apply = terraform.apply(&action.plan_file);
        // A backend that stops answering is noticed within about two minutes (dropping the
        // apply interrupts terraform, which writes its state and releases its lock).
        tokio::select! {
            applied = apply => applied,
            silent = cloud.stopped_answering(WATCH_EVERY, WATCH_WAIT, WATCH_MISSES) => return Err(silent),
        }
    };
    let applied = match applied {
        Ok(a) => a,
        // Another machine's run holds the state: nothing was applied, and there is nothing to debug.
        Err(failed) if let Some(holder) = terraform::lock_holder(&failed.diagnostics.join("\n")) => {
            audit(ws, &env, Outcome::Failed, Some(&caller), format!("not applied: {holder}"), Some(approval.digest()), Some(approval.id()))?;
            return Err(Error::Busy { what: format!("another terraform run on the state of {env}"), holder: Some(holder) });
        }
        // Another deploy applied since this plan was made (on this machine or another): nothing was applied, and
        // what this change does now needs a new plan, not a debug.
        Err(failed) if failed.diagnostics.iter().any(|d| d.contains("Saved plan is stale")) => {
            audit(
                ws,
                &env,
                Outcome::Failed,
                Some(&caller),
                "not applied: the state changed since this plan was made",
                Some(approval.digest()),
                Some(approval.id()),
            )?;
            return Err(Error::Failed(format!(
                "nothing was applied: the state of {env} changed since this plan was made (another deploy applied first); \
                 preview and deploy again to see what this change does now (faber-cloud infra deploy --env {env})"
            )));
        }
        Err(failed) => return Err(apply_failed(ws, &config, &caller, action, approval.id(), &failed).await?),
    };
    // The other regions, one after the other; the first failure stops the rest.
    let mut applied = applied;
    let mut done = vec![action.region.clone().unwrap_or_else(|| config.primary_region(&env))];
    for (i, r) in action.other_regions.clone().iter().enumerate() {
        progress::step(4, STEPS, &format!("apply: {} ({} of {})", r.region, i + 2, action.other_regions.len() + 1));
        let outcome = {
            let _tf = terraform::lock(ws, &env)?;
            crate::infra::engineer::terraform_ready(&config, &dir, &env, &r.region).await?.apply(&r.plan_file).await
        };
        match outcome {
            Ok(a) => {
                applied.absorb(a);
                done.push(r.region.clone());
            }
            Err(failed) => {
                let rest: Vec<&str> = action.other_regions[i + 1..].iter().map(|r| r.region.as_str()).collect();
                let message = crate::redact::redact(&failed.diagnostics.join("\n"));
                audit(
                    ws,
                    &env,
                    Outcome::Failed,
                    Some(&caller),
                    format!("applied in {}; {} failed", done.join(", "), r.region),
                    Some(approval.digest()),
                    Some(approval.id()),
                )?;
                return Err(Error::Failed(format!(
                    "the deploy to {env} applied in {} and FAILED in {} ({}): {message}{}; fix it and deploy again (the regions done have nothing left to apply)",
                    done.join(", "),
                    r.region,
                    failed.command,
                    if rest.is_empty() { String::new() } else { format!("; not applied: {}", rest.join(", ")) }
                )));
            }
        }
    }
    let in_regions = if done.len() > 1 { format!(" in {}", done.join(", ")) } else { String::new() };
    step(&mut action.steps, 4, "apply", StepStatus::Ok, format!("{} added, {} changed, {} destroyed{in_regions}", applied.add, applied.change, applied.remove));
    audit(
        ws,
        &env,
        Outcome::Succeeded,
        Some(&caller),
        format!("applied: +{} ~{} -{}", applied.add, applied.change, applied.remove),
        Some(approval.digest()),
        Some(approval.id()),
    )?;
    let settled = diagnose::deploy_succeeded(ws, &env, Utc::now())?;
    drop(_lock);
    finish(ws, &config, &cloud, &caller, action, Some(applied), Some(settled)).await
}

/// A failed apply: audit, debug, and (for a permission error) the fix waiting at the gate.
/// Returns the error the deploy ends with.
async fn apply_failed(
    ws: &Workspace,
    config: &Config,
    caller: &Caller,
    mut action: DeployAction,
    id: &str,
    failed: &terraform::ApplyFailed,
) -> Result<Error, Error> {
    let env = action.env.clone();
    step(&mut action.steps, 4, "apply", StepStatus::Failed, crate::redact::redact(&failed.to_string()));
    audit(ws, &env, Outcome::Failed, Some(caller), "apply failed; running debug", Some(&action.digest), Some(id))?;
    // Terraform's diagnostics alone: the same error pasted into `debug --error` gets the same signature.
    let message = failed.diagnostics.join("\n");
    let debug = diagnose::record(ws, &env, &message, Some(&caller.arn), true, Utc::now())?;
    let fix_pending = match &debug.fix {
        Some(fix) => Some(diagnose::request_fix(ws, config, fix)?),
        None => None,
    };
    let report = ApplyFailedReport {
        env,
        failed_step: "apply",
        command: failed.command.clone(),
        exit_status: failed.status,
        steps: action.steps,
        debug,
        fix_pending: fix_pending.map(|p| Reply { status: p.status(), report: p }),
        message: crate::redact::redact(&message),
    };
    Ok(Error::invalid(&report))
}

/// Steps 5–9: verify, post-deployment tests, health, registry, DEPLOYED.md.
async fn finish(
    ws: &Workspace,
    config: &Config,
    cloud: &Cloud,
    caller: &Caller,
    mut action: DeployAction,
    applied: Option<Applied>,
    settled: Option<Vec<(String, bool)>>,
) -> Result<DeployReport, Error> {
    let env = action.env.clone();
    let dir = validate::directory(ws.project_dir(), config)?;
    // Every region's state (one region: the state the apply left initialised).
    let regions = config.regions(&env);
    let multi = regions.len() > 1;
    let states = {
        let _tf = terraform::lock(ws, &env)?;
        crate::infra::engineer::region_states(config, &dir, &env).await?
    };
    let per_region: Vec<(&str, Vec<resources::StateResource<'_>>)> =
        regions.iter().map(String::as_str).zip(states.iter().map(resources::state_resources)).collect();
    let in_state: Vec<resources::StateResource<'_>> = per_region.iter().flat_map(|(_, r)| r.iter().copied()).collect();

    // 5. Verify with AWS, each region with its own clients.
    progress::step(5, STEPS, &format!("verify: asking AWS about {} resource(s)", in_state.len()));
    let mut verified = Vec::new();
    let mut clouds = Vec::new();
    for (region, resources) in &per_region {
        let c = if multi { cloud.in_region(region).await } else { cloud.clone() };
        verified.extend(verify_all(&c, resources).await);
        clouds.push(c);
    }
    let n = |p: Presence| verified.iter().filter(|v| v.presence == p).count();
    let (exists, missing, unchecked, errors) = (n(Presence::Exists), n(Presence::Missing), n(Presence::Unchecked), n(Presence::Error));
    let verify_status = if missing > 0 {
        StepStatus::Failed
    } else if errors > 0 {
        StepStatus::Warn
    } else {
        StepStatus::Ok
    };
    step(
        &mut action.steps,
        5,
        "verify",
        verify_status,
        format!("{exists} exist in AWS, {missing} missing, {errors} could not be checked, {unchecked} of types without an AWS check"),
    );

    // 6. Post-deployment tests.
    let post = post_tests(ws, &env, &in_state, &verified)?;
    let post_status = StepStatus::of(post.overall_status);
    step(&mut action.steps, 6, "post-deployment tests", post_status, format!("{:?}; report {}", post.overall_status, post.report_path.display()));

    // 7. Health (basic): alarms of this deployment and Lambda function states.
    let mut health = BasicHealth { status: HealthStatus::Healthy, reasons: Vec::new() };
    for ((region, resources), c) in per_region.iter().zip(&clouds) {
        let h = basic_health(c, resources).await;
        health.status = health.status.max(h.status);
        health.reasons.extend(h.reasons.into_iter().map(|r| if multi { format!("{region}: {r}") } else { r }));
    }
    let health_step = if health.status == HealthStatus::Healthy { StepStatus::Ok } else { StepStatus::Warn };
    step(&mut action.steps, 7, "health", health_step, format!("{}: {}", health.status.as_str(), health.reasons.join("; ")));

    // 8–9. Registry and DEPLOYED.md.
    let changed = applied.as_ref().map(|a| a.completed.clone()).unwrap_or_default();
    let (reg, reg_path, md_path) = registry::record(ws, config, &env, caller, &per_region, &changed)?;
    if !action.code_digest.is_empty() {
        promotion::record(ws, &env, &action.code_digest)?;
    }
    step(&mut action.steps, 8, "registry", StepStatus::Ok, format!("{} resource(s) in {}", reg.resource_count, reg_path.display()));
    step(&mut action.steps, 9, "DEPLOYED.md", StepStatus::Ok, md_path.display().to_string());
    audit(
        ws,
        &env,
        Outcome::Succeeded,
        Some(caller),
        format!("deploy finished: verify {}, post-deployment {}, health {}", verify_status.as_str(), post_status.as_str(), health.status.as_str()),
        Some(&action.digest),
        None,
    )?;

    let report = DeployReport {
        env,
        applied,
        plan_file: action.plan_file,
        digest: action.digest,
        caller: caller.clone(),
        steps: action.steps,
        verification: verified,
        post_deployment: PostDeploymentOutcome { status: post.overall_status, report: post.report_path },
        health,
        registry: reg_path,
        deployed_md: md_path,
        resource_count: reg.resource_count,
        fix_outcomes: settled.unwrap_or_default(),
    };
    if report.post_deployment.status == Status::Fail {
        return Err(Error::invalid(&report));
    }
    Ok(report)
}

/// The post-deployment tests, as written to `test-reports/{env}/{ts}-post-deployment.json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PostDeploymentReport {
    pub env: String,
    pub phase: Phase,
    pub timestamp: String,
    pub overall_status: Status,
    pub tests: Vec<TestResult>,
    pub verification: Vec<Verified>,
    pub report_path: PathBuf,
}

impl Report for PostDeploymentReport {
    fn text(&self) -> String {
        let lines: Vec<String> = self.tests.iter().map(|t| format!("{:?} {}: {}", t.status, t.name, t.summary)).collect();
        format!(
            "Post-deployment tests for {}: {:?} ({} resource(s) in the state).\n{}\nReport: {}",
            self.env,
            self.overall_status,
            self.verification.len(),
            lines.join("\n"),
            self.report_path.display()
        )
    }
}

/// `test --phase post-deployment` on its own: verify what the state says is deployed, and write the report.
pub async fn post_deployment(ws: &Workspace, config: &Config, env: &str) -> Result<PostDeploymentReport, Error> {
    let cloud = Cloud::connect(config, env).await;
    cloud.checked_caller(config).await?;
    let dir = validate::directory(ws.project_dir(), config)?;
    let state = {
        let _tf = terraform::lock(ws, env)?;
        let tf = Terraform::for_env(config, &dir, env);
        tf.init_env(env).await?;
        tf.state().await?
    };
    let in_state = resources::state_resources(&state);
    let verified = verify_all(&cloud, &in_state).await;
    let report = post_tests(ws, env, &in_state, &verified)?;
    if report.overall_status == Status::Fail {
        return Err(Error::invalid(&report));
    }
    Ok(report)
}

/// Asks AWS about every resource of the state.
async fn verify_all(cloud: &Cloud, in_state: &[resources::StateResource<'_>]) -> Vec<Verified> {
    let mut verified = Vec::new();
    for r in in_state {
        verified.push(verify::check(cloud, r.address, r.kind, r.values).await);
    }
    verified
}

/// Existence, configuration and monitoring, written to `test-reports/{env}/{ts}-post-deployment.json`.
fn post_tests(ws: &Workspace, env: &str, in_state: &[resources::StateResource<'_>], verified: &[Verified]) -> Result<PostDeploymentReport, Error> {
    let mut tests = Vec::new();
    let missing: Vec<&Verified> = verified.iter().filter(|v| v.presence == Presence::Missing).collect();
    let unknown: Vec<&Verified> = verified.iter().filter(|v| v.presence == Presence::Error).collect();
    tests.push(TestResult {
        name: "existence",
        status: if !missing.is_empty() {
            Status::Fail
        } else if !unknown.is_empty() {
            Status::Warn
        } else {
            Status::Pass
        },
        duration_ms: 0,
        summary: format!(
            "{} of {} resource(s) confirmed by AWS; {} missing; {} unknown; {} of types without an AWS check",
            verified.iter().filter(|v| v.presence == Presence::Exists).count(),
            verified.len(),
            missing.len(),
            unknown.len(),
            verified.iter().filter(|v| v.presence == Presence::Unchecked).count()
        ),
        details: json!({"missing": missing, "unknown": unknown}),
    });
    let mismatched: Vec<Value> = verified
        .iter()
        .flat_map(|v| {
            v.configuration
                .iter()
                .filter(|c| !c.matches)
                .map(move |c| json!({"address": v.address, "attribute": c.attribute, "expected": c.expected, "actual": c.actual}))
        })
        .collect();
    let compared: usize = verified.iter().map(|v| v.configuration.len()).sum();
    tests.push(TestResult {
        name: "configuration",
        status: if mismatched.is_empty() { Status::Pass } else { Status::Fail },
        duration_ms: 0,
        summary: format!("{compared} attribute(s) compared with AWS; {} differ", mismatched.len()),
        details: json!({"differences": mismatched}),
    });
    // Monitoring: every Lambda function has its log group and at least one alarm in this deployment.
    let mut gaps = Vec::new();
    let names = |kind: &str, attr: &str| -> Vec<String> {
        in_state.iter().filter(|r| r.kind == kind).filter_map(|r| r.values.get(attr).and_then(Value::as_str).map(str::to_string)).collect()
    };
    let groups = names("aws_cloudwatch_log_group", "name");
    let alarm_dims: Vec<String> = in_state
        .iter()
        .filter(|r| r.kind == "aws_cloudwatch_metric_alarm")
        .flat_map(|r| {
            r.values
                .get("dimensions")
                .and_then(Value::as_object)
                .map(|m| m.values().filter_map(|v| v.as_str().map(str::to_string)).collect::<Vec<_>>())
                .unwrap_or_default()
        })
        .collect();
    for f in names("aws_lambda_function", "function_name") {
        if !groups.contains(&format!("/aws/lambda/{f}")) {
            gaps.push(format!("Lambda {f} has no log group /aws/lambda/{f} managed here (it gets one with unlimited retention on first run)"));
        }
        if !alarm_dims.contains(&f) {
            gaps.push(format!("Lambda {f} has no CloudWatch alarm"));
        }
    }
    for q in names("aws_sqs_queue", "name").into_iter().filter(|q| !q.ends_with("-dlq")) {
        if !alarm_dims.contains(&q) {
            gaps.push(format!("SQS queue {q} has no CloudWatch alarm (age of oldest message)"));
        }
    }
    tests.push(TestResult {
        name: "monitoring",
        status: if gaps.is_empty() { Status::Pass } else { Status::Warn },
        duration_ms: 0,
        summary: if gaps.is_empty() { "alarms and log groups in place for every function and queue".into() } else { format!("{} gap(s)", gaps.len()) },
        details: json!({"gaps": gaps}),
    });
    let overall = tests.iter().map(|t| t.status).max().unwrap_or(Status::Pass);
    let now = Utc::now();
    let path = ws.path(&format!("test-reports/{env}/{}-post-deployment.json", now.format("%Y%m%dT%H%M%SZ")))?;
    let report = PostDeploymentReport {
        env: env.into(),
        phase: Phase::PostDeployment,
        timestamp: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        overall_status: overall,
        tests,
        verification: verified.to_vec(),
        report_path: path,
    };
    ws.write_json(&report.report_path, &report)?;
    Ok(report)
}

/// HEALTHY unless an alarm of this deployment is in ALARM or a function is not Active.
async fn basic_health(cloud: &Cloud, in_state: &[resources::StateResource<'_>]) -> BasicHealth {
    let mut reasons = Vec::new();
    let mut worst = HealthStatus::Healthy;
    let alarms: Vec<String> = in_state
        .iter()
        .filter(|r| r.kind == "aws_cloudwatch_metric_alarm")
        .filter_map(|r| r.values.get("alarm_name").and_then(Value::as_str).map(str::to_string))
        .collect();
    for chunk in alarms.chunks(100) {
        match cloud.cloudwatch().describe_alarms().set_alarm_names(Some(chunk.to_vec())).send().await {
            Ok(out) => {
                for a in out.metric_alarms() {
                    if a.state_value().map(|s| s.as_str()) == Some("ALARM") {
                        worst = HealthStatus::Unhealthy;
                        reasons.push(format!("alarm {} is in ALARM: {}", a.alarm_name().unwrap_or("?"), a.state_reason().unwrap_or("")));
                    }
                }
            }
            Err(e) => reasons.push(format!("alarms not read: {}", crate::cloud::describe("cloudwatch:DescribeAlarms", &e))),
        }
    }
    for r in in_state.iter().filter(|r| r.kind == "aws_lambda_function") {
        let name = r.values.get("function_name").and_then(Value::as_str).unwrap_or_default();
        if let Ok(out) = cloud.lambda().get_function_configuration().function_name(name).send().await
            && let Some(state) = out.state()
            && state.as_str() != "Active"
        {
            worst = worst.max(HealthStatus::Degraded);
            reasons.push(format!("Lambda {name} is {}", state.as_str()));
        }
    }
    if reasons.is_empty() {
        reasons.push(format!("{} alarm(s) not in ALARM; every function Active", alarms.len()));
    }
    BasicHealth { status: worst, reasons }
}
