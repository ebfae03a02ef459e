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
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::app::{App, Reply};
use crate::cloud::verify::{self, Presence, Verified};
use crate::cloud::{Caller, Cloud};
use crate::config::Config;
use crate::error::Error;
use crate::gate::{Approval, BannerFacts, ChangeCounts};
use crate::iac::terraform::{self, Applied, Terraform};
use crate::infra::test::{Status, TestResult};
use crate::infra::{diagnose, preview, registry, resources, test, validate};
use crate::progress;
use crate::workspace::{AuditEntry, Outcome, Workspace};

pub const STEPS: u32 = 9;

/// What deploy was asked to do.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub skip_tests: bool,
    pub skip_preview: bool,
    pub auto_approve: bool,
}

/// What an approval of a deploy runs; stored with the pending operation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeployAction {
    pub env: String,
    pub plan_file: PathBuf,
    pub digest: String,
    pub changes: ChangeCounts,
    /// Steps 1–3 as they went, carried into the final report.
    pub steps: Vec<Step>,
}

/// One step of the pipeline as it went.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Step {
    pub n: u32,
    pub name: String,
    /// ok, skipped, warn, failed.
    pub status: String,
    pub detail: String,
}

fn step(steps: &mut Vec<Step>, n: u32, name: &str, status: &str, detail: impl Into<String>) {
    let detail = detail.into();
    progress::step(n, STEPS, &format!("{name}: {status} — {detail}"));
    steps.push(Step { n, name: name.into(), status: status.into(), detail });
}

fn lock(ws: &Workspace, env: &str) -> Result<crate::workspace::FileLock, Error> {
    ws.try_lock(&format!("deploy-{env}"))?
        .ok_or_else(|| Error::Failed(format!("a deploy to {env} is in progress; wait for it to finish (one deploy per environment at a time)")))
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

/// Steps 1–3: tests, preview, and the gate. Runs the rest at once when the gate approves.
pub async fn start(app: &App, config: &Config, env: &str, opts: Options) -> Result<Reply, Error> {
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
    let ws = app.workspace();
    let _lock = lock(ws, env)?;
    let cloud = Cloud::connect(config, env).await;
    let caller = match cloud.checked_caller(config).await {
        Ok(c) => c,
        Err(e) => {
            audit(ws, env, Outcome::Refused, None, e.to_string(), None, None)?;
            return Err(e);
        }
    };
    audit(
        ws,
        env,
        Outcome::Requested,
        Some(&caller),
        format!("deploy requested (profile {})", cloud.target.profile().unwrap_or("default credentials")),
        None,
        None,
    )?;
    let mut steps = Vec::new();

    // 1. Pre-deployment tests.
    if opts.skip_tests {
        step(&mut steps, 1, "pre-deployment tests", "skipped", "skip_tests was given");
    } else {
        progress::step(1, STEPS, "pre-deployment tests: running");
        let report = test::run(ws, config, env, &config.scan.clone().unwrap_or_default()).await?;
        let detail = format!("{:?}; report {}", report.overall_status, report.report_path.display());
        if report.overall_status == Status::Fail {
            step(&mut steps, 1, "pre-deployment tests", "failed", detail);
            audit(ws, env, Outcome::Failed, Some(&caller), "stopped: pre-deployment tests FAIL", None, None)?;
            let failing: Vec<String> = report.tests.iter().filter(|t| t.status == Status::Fail).map(|t| format!("{}: {}", t.name, t.summary)).collect();
            return Err(Error::Invalid {
                summary: format!(
                    "Deploy to {env} stopped: the pre-deployment tests FAIL ({}). Nothing was applied. Report: {}",
                    failing.join("; "),
                    report.report_path.display()
                ),
                body: Box::new(json!({"env": env, "steps": steps, "pre_deployment": report})),
            });
        }
        let status = if report.overall_status == Status::Warn { "warn" } else { "ok" };
        step(&mut steps, 1, "pre-deployment tests", status, detail);
    }

    // 2. Preview: a fresh saved plan, or the last one with skip_preview.
    let (plan_file, digest, changes, cost, text) = if opts.skip_preview {
        let latest = ws.path(&format!("plans/{env}/latest.json"))?;
        let saved: preview::SavedPlan = std::fs::read_to_string(&latest).ok().and_then(|t| serde_json::from_str(&t).ok()).ok_or_else(|| {
            Error::bad_input(
                "skip_preview",
                format!("there is no saved preview for {env} to deploy"),
                Some("run preview-changes first, or deploy without skip_preview".into()),
            )
        })?;
        let changes = ChangeCounts { add: saved.add as u32, change: saved.change as u32, destroy: saved.destroy as u32 };
        step(&mut steps, 2, "preview", "skipped", format!("using the saved plan from {} ({})", saved.created_at, counts(changes)));
        (saved.plan_file, saved.digest, changes, None, String::new())
    } else {
        progress::step(2, STEPS, "preview: planning");
        let report = preview::run(ws, config, env).await?;
        let s = &report.summary;
        let changes = ChangeCounts { add: s.add as u32, change: s.change as u32, destroy: s.destroy as u32 };
        step(&mut steps, 2, "preview", "ok", format!("{}; cost impact {}", s.counts(), report.cost_impact.summary()));
        let text = format!("{}\n{}", s.counts(), s.text());
        (report.plan_file, report.digest, changes, Some(report.cost_impact.after - report.cost_impact.before), text)
    };

    // Nothing to change: no approval needed; verify and document what is there.
    if changes.add + changes.change + changes.destroy == 0 {
        step(&mut steps, 3, "approval", "skipped", "the plan changes nothing");
        step(&mut steps, 4, "apply", "skipped", "nothing to apply");
        drop(_lock);
        let action = DeployAction { env: env.into(), plan_file, digest, changes, steps };
        return finish(app, config, &cloud, &caller, action, None, None).await;
    }

    // 3. The gate.
    let facts = BannerFacts {
        env: env.into(),
        operation: "deploy".into(),
        summary: format!("Apply the saved plan {} to {env}: {}.", plan_file.display(), counts(changes)),
        changes: Some(changes),
        cost_impact: cost,
        account: Some(caller.account.clone()),
        region: Some(cloud.target.region.clone()),
        profile: cloud.target.profile().map(str::to_string),
    };
    let action = DeployAction { env: env.into(), plan_file, digest: digest.clone(), changes, steps };
    drop(_lock);
    match app.ask_gate(config, env, opts.auto_approve, facts, digest, crate::app::GatedAction::Deploy(action.clone()))? {
        crate::gate::Requested::Approved(approval) => {
            let mut action = action;
            step(&mut action.steps, 3, "approval", "ok", "auto-approved (unprotected environment)");
            execute(app, approval, action).await
        }
        crate::gate::Requested::Pending(op) => {
            progress::step(3, STEPS, &format!("approval: waiting for confirmation ({} of {})", op.steps_done + 1, op.steps_required));
            let mut reply = crate::app::pending_reply(&op);
            if !text.is_empty() {
                reply.summary = format!("{text}\n\n{}", reply.summary);
            }
            if let Value::Object(map) = &mut reply.body {
                map.insert("deploy".into(), json!({"steps": action.steps, "plan_file": action.plan_file, "changes": changes, "cost_impact": cost}));
            }
            Ok(reply)
        }
    }
}

fn counts(c: ChangeCounts) -> String {
    format!("+{} ~{} -{}", c.add, c.change, c.destroy)
}

/// Steps 4–9, with the approval in hand.
pub async fn execute(app: &App, approval: Approval, mut action: DeployAction) -> Result<Reply, Error> {
    let ws = app.workspace();
    let config = app.config()?;
    let env = action.env.clone();
    let _lock = lock(ws, &env)?;
    // The re-checks: same environment, the plan file unchanged, not expired; the environment's own
    // credentials (never discover), in the configured account.
    let current = preview::digest_file(&action.plan_file)?;
    approval.check(&env, &current, Utc::now())?;
    let cloud = Cloud::connect(&config, &env).await;
    let caller = cloud.checked_caller(&config).await?;
    if !action.steps.iter().any(|s| s.n == 3) {
        step(&mut action.steps, 3, "approval", "ok", format!("confirmed (operation {})", approval.id()));
    }
    audit(ws, &env, Outcome::Executed, Some(&caller), format!("applying {}", action.plan_file.display()), Some(approval.digest()), Some(approval.id()))?;

    // 4. Apply exactly the approved plan.
    progress::step(4, STEPS, "apply: running terraform apply of the approved plan");
    let dir = validate::directory(ws.project_dir(), &config)?;
    let applied = {
        let _tf = terraform::lock(ws, &env)?;
        Terraform::for_env(&config, &dir, &env).apply(&action.plan_file).await
    };
    let applied = match applied {
        Ok(a) => a,
        Err(failed) => return apply_failed(app, &config, &caller, action, approval.id(), &failed).await,
    };
    step(&mut action.steps, 4, "apply", "ok", format!("{} added, {} changed, {} destroyed", applied.add, applied.change, applied.remove));
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
    finish(app, &config, &cloud, &caller, action, Some(applied), Some(settled)).await
}

/// A failed apply: audit, debug, and (for a permission error) the fix waiting at the gate.
async fn apply_failed(
    app: &App,
    config: &Config,
    caller: &Caller,
    mut action: DeployAction,
    id: &str,
    failed: &terraform::ApplyFailed,
) -> Result<Reply, Error> {
    let ws = app.workspace();
    let env = action.env.clone();
    step(&mut action.steps, 4, "apply", "failed", crate::redact::redact(&failed.to_string()));
    audit(ws, &env, Outcome::Failed, Some(caller), "apply failed; running debug", Some(&action.digest), Some(id))?;
    // Terraform's diagnostics alone: the same error pasted into `debug --error` gets the same signature.
    let message = failed.diagnostics.join("\n");
    let report = diagnose::record(ws, &env, &message, Some(&caller.arn), true, Utc::now())?;
    let mut body = json!({"env": env, "failed_step": "apply", "command": failed.command, "exit_status": failed.status, "steps": action.steps, "debug": report});
    let mut summary =
        format!("Deploy to {env} FAILED at apply ({}).\n{}\n\nDebug: {}", failed.command, crate::redact::redact(&message), diagnose::summary(&report));
    if let Some(fix) = &report.fix {
        let pending = diagnose::request_fix(app, config, fix).await?;
        summary.push_str(&format!("\n\n{}", pending.summary));
        body["fix_pending"] = pending.body;
    }
    Err(Error::Invalid { summary, body: Box::new(body) })
}

/// Steps 5–9: verify, post-deployment tests, health, registry, DEPLOYED.md.
async fn finish(
    app: &App,
    config: &Config,
    cloud: &Cloud,
    caller: &Caller,
    mut action: DeployAction,
    applied: Option<Applied>,
    settled: Option<Vec<(String, bool)>>,
) -> Result<Reply, Error> {
    let ws = app.workspace();
    let env = action.env.clone();
    let dir = validate::directory(ws.project_dir(), config)?;
    let state = {
        let _tf = terraform::lock(ws, &env)?;
        Terraform::for_env(config, &dir, &env).state().await?
    };
    let in_state = resources::state_resources(&state);

    // 5. Verify with AWS.
    progress::step(5, STEPS, &format!("verify: asking AWS about {} resource(s)", in_state.len()));
    let verified = verify_all(cloud, &in_state).await;
    let n = |p: Presence| verified.iter().filter(|v| v.presence == p).count();
    let (exists, missing, unchecked, errors) = (n(Presence::Exists), n(Presence::Missing), n(Presence::Unchecked), n(Presence::Error));
    let verify_status = if missing > 0 {
        "failed"
    } else if errors > 0 {
        "warn"
    } else {
        "ok"
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
    let post_status = match post.0 {
        Status::Pass => "ok",
        Status::Warn => "warn",
        Status::Fail => "failed",
    };
    step(&mut action.steps, 6, "post-deployment tests", post_status, format!("{:?}; report {}", post.0, post.1.display()));

    // 7. Health (basic): alarms of this deployment and Lambda function states.
    let health = basic_health(cloud, &in_state).await;
    step(&mut action.steps, 7, "health", if health.0 == "HEALTHY" { "ok" } else { "warn" }, format!("{}: {}", health.0, health.1.join("; ")));

    // 8–9. Registry and DEPLOYED.md.
    let previous = registry::load(ws, &env)?;
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let changed = applied.as_ref().map(|a| a.completed.clone()).unwrap_or_default();
    let ctx = registry::Context {
        project: &config.project.name,
        env: &env,
        account: Some(&caller.account),
        region: config.region(),
        caller: Some(&caller.arn),
        now: &now,
    };
    let reg = registry::merge(previous.as_ref(), &in_state, &changed, &ctx);
    let (reg_path, md_path) = registry::save(ws, &reg)?;
    step(&mut action.steps, 8, "registry", "ok", format!("{} resource(s) in {}", reg.resource_count, reg_path.display()));
    step(&mut action.steps, 9, "DEPLOYED.md", "ok", md_path.display().to_string());
    audit(
        ws,
        &env,
        Outcome::Succeeded,
        Some(caller),
        format!("deploy finished: verify {verify_status}, post-deployment {post_status}, health {}", health.0),
        Some(&action.digest),
        None,
    )?;

    let lines: Vec<String> = action.steps.iter().map(|s| format!("{}. {} — {}: {}", s.n, s.name, s.status, s.detail)).collect();
    let body = json!({
        "env": env,
        "applied": applied,
        "plan_file": action.plan_file,
        "digest": action.digest,
        "caller": caller,
        "steps": action.steps,
        "verification": verified,
        "post_deployment": {"status": post.0, "report": post.1},
        "health": {"status": health.0, "reasons": health.1},
        "registry": reg_path,
        "deployed_md": md_path,
        "resource_count": reg.resource_count,
        "fix_outcomes": settled.unwrap_or_default(),
    });
    let headline = match applied {
        Some(a) => format!("Deployed to {env}: +{} ~{} -{}; {} resource(s) registered.", a.add, a.change, a.remove, reg.resource_count),
        None => {
            format!("Nothing to deploy to {env}: the infrastructure matches the configuration; {} resource(s) verified and registered.", reg.resource_count)
        }
    };
    let summary = format!("{headline}\n{}", lines.join("\n"));
    if post.0 == Status::Fail {
        return Err(Error::Invalid {
            summary: format!("{summary}\nThe apply went through, but the post-deployment tests FAIL: see the report."),
            body: Box::new(body),
        });
    }
    Ok(Reply::ok(summary, body))
}

/// `test --phase post-deployment` on its own: verify what the state says is deployed, and write the report.
pub async fn post_deployment(app: &App, config: &Config, env: &str) -> Result<Reply, Error> {
    let ws = app.workspace();
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
    let (status, path, report) = post_tests(ws, env, &in_state, &verified)?;
    let lines: Vec<String> = report["tests"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| format!("{} {}: {}", t["status"].as_str().unwrap_or(""), t["name"].as_str().unwrap_or(""), t["summary"].as_str().unwrap_or("")))
        .collect();
    let summary =
        format!("Post-deployment tests for {env}: {status:?} ({} resource(s) in the state).\n{}\nReport: {}", in_state.len(), lines.join("\n"), path.display());
    if status == Status::Fail {
        return Err(Error::Invalid { summary, body: Box::new(report) });
    }
    Ok(Reply::ok(summary, report))
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
fn post_tests(ws: &Workspace, env: &str, in_state: &[resources::StateResource<'_>], verified: &[Verified]) -> Result<(Status, PathBuf, Value), Error> {
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
    let report = json!({
        "env": env,
        "phase": "post-deployment",
        "timestamp": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "overall_status": overall,
        "tests": tests,
        "verification": verified,
    });
    ws.write_json(&path, &report)?;
    Ok((overall, path, report))
}

/// HEALTHY unless an alarm of this deployment is in ALARM or a function is not Active.
async fn basic_health(cloud: &Cloud, in_state: &[resources::StateResource<'_>]) -> (&'static str, Vec<String>) {
    let mut reasons = Vec::new();
    let mut worst = "HEALTHY";
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
                        worst = "UNHEALTHY";
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
            if worst == "HEALTHY" {
                worst = "DEGRADED";
            }
            reasons.push(format!("Lambda {name} is {}", state.as_str()));
        }
    }
    if reasons.is_empty() {
        reasons.push(format!("{} alarm(s) not in ALARM; every function Active", alarms.len()));
    }
    (worst, reasons)
}
