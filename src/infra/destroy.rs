//! destroy (teardown): `terraform plan -destroy` of an environment → a banner
//! listing every resource and, resource by resource, the data that goes with
//! the stateful ones → always a person's "yes" (two for a protected
//! environment; `auto_approve` never applies) → apply exactly that plan → the
//! registry and DEPLOYED.md rewritten from what is left → the audit trail.
//!
//! [`start`] stops at the gate; `confirm` resumes with [`execute`]. It holds
//! the deploy lock of the environment, so a teardown and a deploy of one
//! environment never run at once.

use std::path::PathBuf;

use chrono::Utc;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::cloud::{Caller, Cloud};
use crate::config::Config;
use crate::error::Error;
use crate::gate::{Approval, BannerFacts, ChangeCounts, EnvPolicy, Gate, GateRequest, Gated, Pending, Requested, StoredAction};
use crate::iac::plan;
use crate::iac::terraform::{self, Applied, PlanMode};
use crate::infra::{backend, deploy, preview, registry, resources, validate};
use crate::progress;
use crate::vocabulary::{ActionKind, Report};
use crate::workspace::{AuditEntry, Outcome, Workspace};

const STEPS: u32 = 4;
/// Resources listed by name in the banner; the rest are counted.
const LISTED: usize = 40;

/// What an approval of a teardown runs; stored with the pending operation.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DestroyAction {
    pub env: String,
    pub plan_file: PathBuf,
    pub digest: String,
    /// Every address the plan deletes.
    pub resources: Vec<String>,
    /// The deletions that lose data, one line each.
    pub data_loss: Vec<String>,
    /// A multi-region environment: the other regions' teardowns, applied before the primary's (whose role
    /// their functions use).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_regions: Vec<RegionTeardown>,
}

/// The teardown of one region beyond the primary.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RegionTeardown {
    pub region: String,
    pub plan_file: PathBuf,
    pub digest: String,
    pub resources: Vec<String>,
}

impl Gated for DestroyAction {
    const KIND: ActionKind = ActionKind::Destroy;
}

/// A teardown waiting at the gate, or an environment with nothing to tear down.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant, reason = "one value per request")]
pub enum Destroying {
    Pending(DestroyPending),
    Nothing(NothingToDestroy),
    /// The teardown did not start: its state bucket is missing, offered for creation.
    BackendMissing(backend::BackendMissing),
}

crate::report_enum!(Destroying { Pending, Nothing, BackendMissing });

/// A teardown waiting for its "yes": the pending operation and what the plan deletes.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DestroyPending {
    #[serde(flatten)]
    pub pending: Pending,
    pub destroy: DestroyPlan,
}

/// What a destroy plan deletes.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DestroyPlan {
    pub plan_file: PathBuf,
    pub resources: Vec<String>,
    pub data_loss: Vec<String>,
}

impl Report for DestroyPending {
    fn status(&self) -> crate::vocabulary::Status {
        self.pending.status()
    }
    fn text(&self) -> String {
        self.pending.text()
    }
}

/// The state of the environment holds nothing: no plan, no gate.
#[derive(Debug, Serialize, JsonSchema)]
pub struct NothingToDestroy {
    pub env: String,
}

impl Report for NothingToDestroy {
    fn text(&self) -> String {
        format!("Nothing to tear down in {}: its Terraform state holds no resources.", self.env)
    }
}

/// A finished teardown.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DestroyReport {
    pub env: String,
    pub applied: Applied,
    pub caller: Caller,
    /// Resources still in the state afterwards (none when the teardown is complete).
    pub remaining: Vec<String>,
    pub registry: PathBuf,
    pub deployed_md: PathBuf,
}

impl Report for DestroyReport {
    fn text(&self) -> String {
        format!(
            "Tore down {}: {} resource(s) destroyed, {} left in the state. Registry {} and {} updated.",
            self.env,
            self.applied.remove,
            self.remaining.len(),
            self.registry.display(),
            self.deployed_md.display()
        )
    }
}

/// A teardown whose apply stopped part way: what failed and what is still there.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DestroyFailed {
    pub env: String,
    pub command: String,
    pub error: String,
    /// Destroyed before the failure.
    pub destroyed: Vec<String>,
    /// Still in the state (and in the registry).
    pub remaining: Vec<String>,
    /// What to do next, when the error is one we recognise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_step: Option<String>,
}

impl Report for DestroyFailed {
    fn text(&self) -> String {
        let mut out = format!(
            "Teardown of {} FAILED ({}): {}\n{} resource(s) destroyed, {} still there: {}.",
            self.env,
            self.command,
            self.error,
            self.destroyed.len(),
            self.remaining.len(),
            self.remaining.join(", ")
        );
        if let Some(next) = &self.next_step {
            out.push_str(&format!("\nNext: {next}"));
        }
        out
    }
}

fn audit(ws: &Workspace, env: &str, outcome: Outcome, caller: Option<&Caller>, detail: impl Into<String>, id: Option<&str>) -> Result<(), Error> {
    let mut e = AuditEntry::new("destroy", env, outcome);
    e.aws_caller = caller.map(|c| c.arn.clone());
    e.detail = Some(detail.into());
    e.operation_id = id.map(str::to_string);
    Ok(ws.audit(&e)?)
}

/// Plans the teardown of `env` and puts it to the gate.
pub async fn start(ws: &Workspace, config: &Config, env: &str) -> Result<Destroying, Error> {
    let policy = EnvPolicy::of(config, env)?.always_confirm();
    let regions = config.regions(env);
    let _lock = deploy::lock(ws, env)?;
    let (cloud, caller) = deploy::requested(ws, config, env, "destroy").await?;
    if let Some(missing) = backend::check(ws, config, env, &cloud, &caller, &format!("destroy --env {env}")).await? {
        return Ok(Destroying::BackendMissing(missing));
    }

    progress::step(1, STEPS, "plan: terraform plan -destroy");
    let now = Utc::now();
    let multi = regions.len() > 1;
    let (plan_file, _, summary) = {
        let _tf = terraform::lock(ws, env)?;
        preview::save_plan(ws, config, env, PlanMode::Destroy, now, multi.then(|| regions[0].as_str())).await?
    };
    let deleted =
        |s: &plan::ChangeSummary| -> Vec<String> { s.resources.iter().filter(|r| r.action == plan::Action::Delete).map(|r| r.address.clone()).collect() };
    let resources = deleted(&summary);
    let mut data_loss = summary.data_loss();
    // A multi-region environment: every other region too, each from its own state.
    let mut other_regions = Vec::new();
    for region in regions.iter().skip(1) {
        let (plan_file, _, summary) = {
            let _tf = terraform::lock(ws, env)?;
            preview::save_plan(ws, config, env, PlanMode::Destroy, now, Some(region)).await?
        };
        data_loss.extend(summary.data_loss().into_iter().map(|d| format!("[{region}] {d}")));
        other_regions.push(RegionTeardown { region: region.clone(), digest: preview::digest_file(&plan_file)?, plan_file, resources: deleted(&summary) });
    }
    let total = resources.len() + other_regions.iter().map(|r| r.resources.len()).sum::<usize>();
    if total == 0 {
        audit(ws, env, Outcome::Succeeded, Some(&caller), "nothing to tear down: the state is empty", None)?;
        return Ok(Destroying::Nothing(NothingToDestroy { env: env.into() }));
    }

    progress::step(2, STEPS, &format!("approval: {total} resource(s) to destroy"));
    let named: Vec<String> = if multi {
        other_regions
            .iter()
            .flat_map(|r| r.resources.iter().map(move |a| format!("[{}] {a}", r.region)))
            .chain(resources.iter().map(|a| format!("[{}] {a}", regions[0])))
            .collect()
    } else {
        resources.clone()
    };
    let mut listed: Vec<String> = named.iter().take(LISTED).map(|a| format!("  - {a}")).collect();
    if named.len() > LISTED {
        listed.push(format!("  … and {} more", named.len() - LISTED));
    }
    let facts = BannerFacts {
        env: env.into(),
        operation: "destroy".into(),
        summary: if multi {
            format!(
                "Destroy every resource of {env} ({total}) in {} regions, {} first and {} last (its role serves the others), with the saved plans:\n{}",
                regions.len(),
                regions[1..].join(", "),
                regions[0],
                listed.join("\n")
            )
        } else {
            format!("Destroy every resource of {env} ({total}), with the saved plan {}:\n{}", plan_file.display(), listed.join("\n"))
        },
        changes: Some(ChangeCounts { add: 0, change: 0, destroy: total as u32 }),
        cost_impact: None,
        account: Some(caller.account.clone()),
        region: Some(if multi { regions.join(", ") } else { cloud.target.region.clone() }),
        profile: cloud.target.profile().map(str::to_string),
        data_loss: data_loss.clone(),
        reverts: Vec::new(),
        promotion: None,
    };
    let digest = preview::digest_file(&plan_file)?;
    let bound = preview::bound_digest(&digest, other_regions.iter().map(|r| (r.region.as_str(), r.digest.as_str())));
    let action = DestroyAction { env: env.into(), plan_file: plan_file.clone(), digest, resources: named.clone(), data_loss: data_loss.clone(), other_regions };
    drop(_lock);
    let request = GateRequest { facts, digest: bound, action: StoredAction::of(&action) };
    let resources = named;
    match Gate::for_config(ws, config).request(policy, false, request, Utc::now())? {
        Requested::Pending(op) => {
            Ok(Destroying::Pending(DestroyPending { pending: Pending::from(&op), destroy: DestroyPlan { plan_file, resources, data_loss } }))
        }
        Requested::Approved(_) => unreachable!("a teardown always waits for a person: its policy is always_confirm"),
    }
}

/// Applies the approved destroy plan and rewrites the registry from what is left.
pub async fn execute(ws: &Workspace, approval: Approval, action: DestroyAction) -> Result<DestroyReport, Error> {
    let config = Config::load(ws)?;
    let env = action.env.clone();
    let _lock = deploy::lock(ws, &env)?;
    let mut current = Vec::new();
    for r in &action.other_regions {
        current.push((r.region.clone(), preview::digest_file(&r.plan_file)?));
    }
    let bound = preview::bound_digest(&preview::digest_file(&action.plan_file)?, current.iter().map(|(r, d)| (r.as_str(), d.as_str())));
    approval.check(&env, &bound, Utc::now())?;
    let cloud = Cloud::connect(&config, &env).await;
    let caller = cloud.checked_caller(&config).await?;
    audit(ws, &env, Outcome::Executed, Some(&caller), format!("destroying with {}", action.plan_file.display()), Some(approval.id()))?;

    progress::step(3, STEPS, &format!("apply: destroying {} resource(s)", action.resources.len()));
    let dir = validate::directory(ws.project_dir(), &config)?;
    let regions = config.regions(&env);
    let multi = regions.len() > 1;
    // The other regions first (their functions use the primary's role), then the primary; the first failure
    // stops the rest.
    let applied: Result<Applied, terraform::ApplyFailed> = {
        let _tf = terraform::lock(ws, &env)?;
        let steps =
            action.other_regions.iter().map(|r| (r.region.clone(), r.plan_file.clone())).chain(std::iter::once((regions[0].clone(), action.plan_file.clone())));
        let mut total = Applied::default();
        let mut failure = None;
        for (region, plan_file) in steps {
            match crate::infra::engineer::terraform_ready(&config, &dir, &env, &region).await?.apply(&plan_file).await {
                Ok(a) => total.absorb(a),
                Err(mut failed) => {
                    if multi {
                        failed.command = format!("{} (in {region})", failed.command);
                    }
                    failure = Some(failed);
                    break;
                }
            }
        }
        failure.map_or(Ok(total), Err)
    };
    // What is left, region by region.
    let states = {
        let _tf = terraform::lock(ws, &env)?;
        crate::infra::engineer::region_states(&config, &dir, &env).await?
    };

    progress::step(4, STEPS, "registry: recording what is left");
    let per_region: Vec<(&str, Vec<resources::StateResource<'_>>)> =
        regions.iter().map(String::as_str).zip(states.iter().map(resources::state_resources)).collect();
    let remaining: Vec<String> = per_region
        .iter()
        .flat_map(|(region, rs)| rs.iter().map(move |r| if multi { format!("[{region}] {}", r.address) } else { r.address.to_string() }))
        .collect();
    let (_, reg_path, md_path) = registry::record(ws, &config, &env, &caller, &per_region, &[])?;
    match applied {
        Ok(applied) => {
            audit(ws, &env, Outcome::Succeeded, Some(&caller), format!("destroyed {}; {} left", applied.remove, remaining.len()), Some(approval.id()))?;
            Ok(DestroyReport { env, applied, caller, remaining, registry: reg_path, deployed_md: md_path })
        }
        Err(failed) if let Some(holder) = terraform::lock_holder(&failed.diagnostics.join("\n")) => {
            audit(ws, &env, Outcome::Failed, Some(&caller), format!("not applied: {holder}"), Some(approval.id()))?;
            Err(Error::Busy { what: format!("another terraform run on the state of {env}"), holder: Some(holder) })
        }
        Err(failed) => {
            let error = crate::redact::redact(&failed.diagnostics.join("\n"));
            audit(ws, &env, Outcome::Failed, Some(&caller), format!("teardown failed: {error}"), Some(approval.id()))?;
            let destroyed = action.resources.iter().filter(|a| !remaining.contains(a)).cloned().collect();
            Err(Error::invalid(&DestroyFailed { env, command: failed.command.clone(), next_step: next_step(&error), error, destroyed, remaining }))
        }
    }
}

/// The way forward for the teardown failures people meet.
fn next_step(error: &str) -> Option<String> {
    if error.contains("BucketNotEmpty") {
        return Some(
            "a bucket still holds objects (generated buckets do not set force_destroy, so data is never deleted by accident): \
             empty it (`aws s3 rm s3://BUCKET --recursive`, and its versions when versioning is on), then tear down again"
                .into(),
        );
    }
    if error.contains("prevent_destroy") {
        return Some("a resource carries lifecycle.prevent_destroy: remove it from the Terraform code on purpose, then tear down again".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teardown_failures_people_meet_say_what_to_do() {
        let bucket = "deleting S3 Bucket (shop-core-test-uploads): operation error S3: DeleteBucket, https response error StatusCode: 409, api error BucketNotEmpty: The bucket you tried to delete is not empty";
        assert!(next_step(bucket).unwrap().contains("aws s3 rm"));
        assert!(next_step("Error: Instance cannot be destroyed ... lifecycle.prevent_destroy set").unwrap().contains("prevent_destroy"));
        assert_eq!(next_step("Error: timeout while waiting"), None);
    }
}
