//! remediate: restart, scale or roll back one service (Lambda function or ECS
//! service). The impact is assessed first (what changes, expected downtime),
//! then the gate decides (production needs two "yes" answers), then the
//! action runs with the environment's own credentials, its effect is
//! verified, and the outcome lands in `remediations/{env}/remediation-log.json`
//! and the audit trail.

use chrono::Utc;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::cloud::Cloud;
use crate::cloud::runtime;
use crate::config::Config;
use crate::error::Error;
use crate::gate::{Approval, BannerFacts, EnvPolicy, Gate, GateRequest, Gated, Pending, Requested, StoredAction};
use crate::ops::services::{self, Kind, Service};
use crate::vocabulary::{ActionKind, RemediationAction, Report, ServiceName, Status};
use crate::workspace::{AuditEntry, Outcome, Workspace, WorkspaceError};

/// What an approval of a remediation runs; its digest is what the approval binds to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Plan {
    pub env: String,
    pub service: String,
    pub resource_kind: Kind,
    pub resource: String,
    pub action: RemediationAction,
    /// ECS cluster, or the Lambda alias a rollback moves.
    pub scope: Option<String>,
    /// The state before (reserved concurrency, desired count, version, task definition).
    pub from: Option<String>,
    /// The state after, as shown.
    pub to: Option<String>,
    /// scale: the capacity to set (reserved concurrency, desired count), typed: what the action uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    pub impact: String,
    pub downtime: String,
}

impl Gated for Plan {
    const KIND: ActionKind = ActionKind::Remediate;
}

/// A remediation waiting at the gate, or one that ran.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Remediated {
    Pending(RemediationPending),
    Done(RemediationDone),
}

crate::report_enum!(Remediated { Pending, Done });

impl Report for RemediationPending {
    fn status(&self) -> Status {
        self.pending.status()
    }
    fn text(&self) -> String {
        self.pending.text()
    }
}

/// The pending operation, with the assessed plan.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RemediationPending {
    #[serde(flatten)]
    pub pending: Pending,
    pub remediation: Plan,
}

/// A remediation that ran and was verified.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RemediationDone {
    pub operation_id: String,
    pub env: String,
    pub remediation: Plan,
    pub outcome: LogOutcome,
    pub verification: String,
    /// Set when the remediation log could not be read and was started afresh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_note: Option<String>,
}

impl Report for RemediationDone {
    fn text(&self) -> String {
        let p = &self.remediation;
        let how = if self.outcome == LogOutcome::Unverified { "sent, NOT verified" } else { "done and verified" };
        let mut out = format!("{} {} of {} in {}: {how} — {}", p.action.as_str(), p.resource_kind.as_str(), p.resource, p.env, self.verification);
        if let Some(note) = &self.log_note {
            out.push_str(&format!("\nNote: {note}"));
        }
        out
    }
}

/// How a logged remediation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogOutcome {
    Succeeded,
    Failed,
    /// The change was sent; its read-back failed (the connection dropped, AWS did not answer).
    Unverified,
}

/// One line of the remediation log.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LogEntry {
    pub at: String,
    pub operation_id: String,
    pub caller: Option<String>,
    pub plan: Plan,
    pub outcome: LogOutcome,
    pub verification: String,
}

fn pick(chosen: Vec<Service>, wanted: &str) -> Result<Service, Error> {
    let able: Vec<Service> = chosen.into_iter().filter(|s| matches!(s.kind, Kind::Lambda | Kind::EcsService)).collect();
    match able.len() {
        1 => Ok(able.into_iter().next().expect("one")),
        0 => Err(Error::bad_input("service", format!("\"{wanted}\" is not a Lambda function or ECS service, which are what remediate can act on"), None)),
        _ => Err(Error::bad_input(
            "service",
            format!("\"{wanted}\" names more than one service"),
            Some(able.iter().map(|s| format!("{} ({})", s.name, s.kind.as_str())).collect::<Vec<_>>().join(", ")),
        )),
    }
}

/// The impact assessment: current state, the change, expected downtime.
async fn assess(cloud: &Cloud, env: &str, s: &Service, action: RemediationAction, target: Option<u32>) -> Result<Plan, Error> {
    let mut calls = 0;
    let mut plan = Plan {
        env: env.into(),
        service: s.name.clone(),
        resource_kind: s.kind,
        resource: s.resource.clone(),
        action,
        scope: None,
        from: None,
        to: None,
        capacity: None,
        impact: String::new(),
        downtime: String::new(),
    };
    match (s.kind, action) {
        (Kind::Lambda, RemediationAction::Restart) => {
            let f = runtime::lambda_facts(cloud, &s.resource, &mut calls).await?;
            plan.from = f.last_modified.clone();
            plan.impact = format!(
                "Touches the configuration of {} (variable FABER_CLOUD_RESTARTED_AT): Lambda starts fresh execution environments for the next invocations; in-flight invocations finish on the old ones.",
                s.resource
            );
            plan.downtime = "none expected; the next invocations pay a cold start".into();
        }
        (Kind::Lambda, RemediationAction::Scale) => {
            let f = runtime::lambda_facts(cloud, &s.resource, &mut calls).await?;
            let current = f.reserved_concurrency;
            let to = match target {
                Some(t) => t,
                // Proposed: double the reservation, or 10 when none is set.
                None => current.map_or(10, |c| (c.max(1) * 2) as u32),
            };
            plan.from = Some(concurrency_state(current));
            plan.to = Some(to.to_string());
            plan.capacity = Some(to);
            plan.impact = format!(
                "Sets the reserved concurrency of {} from {} to {to}{}.",
                s.resource,
                plan.from.as_deref().unwrap_or("?"),
                if target.is_none() { " (proposed: give target to choose)" } else { "" }
            );
            plan.downtime = if to == 0 { "total: 0 stops every invocation".into() } else { "none; invocations above the new limit are throttled".into() };
        }
        (Kind::Lambda, RemediationAction::Rollback) => {
            let alias = runtime::lambda_alias(cloud, &s.resource, &mut calls).await?.ok_or_else(|| Error::NotFound {
                what: "Lambda alias",
                name: s.resource.clone(),
                message: format!("{} has no alias to roll back: publish versions and point an alias (e.g. live) at one", s.resource),
            })?;
            let previous = alias.previous.clone().ok_or_else(|| {
                Error::Failed(format!("alias {} of {} is at version {}, and there is no earlier published version", alias.alias, s.resource, alias.current))
            })?;
            plan.scope = Some(alias.alias.clone());
            plan.from = Some(alias.current.clone());
            plan.to = Some(previous.clone());
            plan.impact = format!("Points alias {} of {} from version {} back to version {previous}.", alias.alias, s.resource, alias.current);
            plan.downtime = "none; new invocations through the alias run the previous version".into();
        }
        (Kind::EcsService, _) => {
            let cluster = s.cluster().ok_or_else(|| Error::Failed(format!("the cluster of ECS service {} is not known", s.resource)))?.to_string();
            let f = runtime::ecs_facts(cloud, &cluster, &s.resource, &mut calls).await?;
            plan.scope = Some(cluster);
            match action {
                RemediationAction::Restart => {
                    plan.from = Some(f.task_definition.clone());
                    plan.impact = format!("Forces a new deployment of {}: its {} running task(s) are replaced one by one.", s.resource, f.running);
                    plan.downtime = "none expected while the service has healthy tasks during the rolling replacement".into();
                }
                RemediationAction::Scale => {
                    let to = target.unwrap_or((f.desired + 1) as u32);
                    plan.from = Some(f.desired.to_string());
                    plan.to = Some(to.to_string());
                    plan.capacity = Some(to);
                    plan.impact = format!("Sets the desired count of {} from {} to {to}.", s.resource, f.desired);
                    plan.downtime = if to == 0 { "total: 0 tasks".into() } else { "none".into() };
                }
                RemediationAction::Rollback => {
                    let (family, rev) = f
                        .task_definition
                        .rsplit_once(':')
                        .and_then(|(fam, r)| r.parse::<u32>().ok().map(|r| (fam.to_string(), r)))
                        .ok_or_else(|| Error::Failed(format!("cannot read the revision of {}", f.task_definition)))?;
                    if rev <= 1 {
                        return Err(Error::Failed(format!("{} is at revision {rev}: there is no earlier task definition", s.resource)));
                    }
                    plan.from = Some(f.task_definition.clone());
                    plan.to = Some(format!("{family}:{}", rev - 1));
                    plan.impact = format!("Deploys task definition revision {} of {} instead of {rev}.", rev - 1, s.resource);
                    plan.downtime = "none expected (rolling deployment)".into();
                }
            }
        }
        _ => unreachable!("pick keeps Lambda and ECS services"),
    }
    Ok(plan)
}

/// Assesses, then asks the gate; runs at once when the gate approves.
pub async fn start(
    ws: &Workspace,
    config: &Config,
    env: &str,
    service: Option<&ServiceName>,
    action: RemediationAction,
    target: Option<u32>,
) -> Result<Remediated, Error> {
    let mut calls = 0;
    let cloud = Cloud::connect(config, env).await;
    let all = services::resolve(&cloud, ws, config, env, &mut calls).await?;
    let wanted = service.ok_or_else(|| {
        Error::bad_input(
            "service",
            "is required for remediate: name the service to act on",
            Some(all.iter().filter(|s| matches!(s.kind, Kind::Lambda | Kind::EcsService)).map(|s| s.name.clone()).collect::<Vec<_>>().join(", ")),
        )
    })?;
    let s = pick(services::select(&all, Some(wanted.as_str()))?, wanted)?;
    let caller = cloud.checked_caller(config).await?;
    let plan = assess(&cloud, env, &s, action, target).await?;
    let stored = StoredAction::of(&plan);
    let facts = BannerFacts {
        env: env.into(),
        operation: format!("remediate {}", action.as_str()),
        summary: format!("{}\nExpected downtime: {}.", plan.impact, plan.downtime),
        account: Some(caller.account.clone()),
        region: Some(cloud.target.region.clone()),
        profile: cloud.target.profile().map(str::to_string),
        ..Default::default()
    };
    let request = GateRequest { facts, digest: stored.digest(), action: stored };
    match Gate::for_config(ws, config).request(EnvPolicy::of(config, env)?, false, request, Utc::now())? {
        Requested::Approved(approval) => Ok(Remediated::Done(execute(ws, approval, plan).await?)),
        Requested::Pending(op) => Ok(Remediated::Pending(RemediationPending { pending: Pending::from(&op), remediation: plan })),
    }
}

/// Runs an approved remediation, verifies it, and logs the outcome.
pub async fn execute(ws: &Workspace, approval: Approval, plan: Plan) -> Result<RemediationDone, Error> {
    let config = Config::load(ws)?;
    approval.check(&plan.env, &approval.stored().digest(), Utc::now())?;
    let cloud = Cloud::connect(&config, &plan.env).await;
    let caller = cloud.checked_caller(&config).await?;
    let stamp = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let result = act(&cloud, &plan, &stamp).await;
    let (outcome, verification, audited) = match &result {
        Ok(Acted::Verified(v)) => (LogOutcome::Succeeded, v.clone(), Outcome::Succeeded),
        Ok(Acted::Unverified(v)) => (LogOutcome::Unverified, v.clone(), Outcome::Unverified),
        Err(e) => (LogOutcome::Failed, e.to_string(), Outcome::Failed),
    };
    let mut entry = AuditEntry::new(&format!("remediate {}", plan.action.as_str()), &plan.env, audited);
    entry.aws_caller = Some(caller.arn.clone());
    entry.operation_id = Some(approval.id().into());
    entry.digest = Some(approval.digest().into());
    entry.detail = Some(format!("{} {}: {verification}", plan.resource_kind.as_str(), plan.resource));
    ws.audit(&entry)?;
    let log_note = append_log(
        ws,
        &plan.env,
        LogEntry { at: stamp, operation_id: approval.id().into(), caller: Some(caller.arn), plan: plan.clone(), outcome, verification: verification.clone() },
    )?;
    result?;
    Ok(RemediationDone { operation_id: approval.id().into(), env: plan.env.clone(), remediation: plan, outcome, verification, log_note })
}

/// A Lambda's reserved concurrency as a scale's `from` shows it.
fn concurrency_state(reserved: Option<i32>) -> String {
    reserved.map_or("unreserved".to_string(), |c| c.to_string())
}

/// The state `assess` read as `from`, read again now.
async fn live_from(cloud: &Cloud, plan: &Plan) -> Result<Option<String>, Error> {
    let mut calls = 0;
    Ok(match (plan.resource_kind, plan.action) {
        (Kind::Lambda, RemediationAction::Restart) => runtime::lambda_facts(cloud, &plan.resource, &mut calls).await?.last_modified,
        (Kind::Lambda, RemediationAction::Scale) => {
            let f = runtime::lambda_facts(cloud, &plan.resource, &mut calls).await?;
            Some(concurrency_state(f.reserved_concurrency))
        }
        (Kind::Lambda, RemediationAction::Rollback) => runtime::lambda_alias(cloud, &plan.resource, &mut calls).await?.map(|a| a.current),
        (Kind::EcsService, action) => {
            let cluster = plan.scope.clone().unwrap_or_default();
            let f = runtime::ecs_facts(cloud, &cluster, &plan.resource, &mut calls).await?;
            Some(if action == RemediationAction::Scale { f.desired.to_string() } else { f.task_definition })
        }
        _ => None,
    })
}

/// The action and its verification (a read-back of the state it changed).
/// It first reads the state the banner showed: when that changed since the
/// approval, nothing is done.
async fn act(cloud: &Cloud, plan: &Plan, stamp: &str) -> Result<Acted, Error> {
    let live = live_from(cloud, plan).await?;
    if live != plan.from {
        return Err(Error::Failed(format!(
            "{} changed since the confirmation: the banner showed {}, it is now {}; nothing was done — run the remediation again to see the current state",
            plan.resource,
            plan.from.as_deref().unwrap_or("nothing"),
            live.as_deref().unwrap_or("nothing")
        )));
    }
    let mut calls = 0;
    let to = plan.to.clone().unwrap_or_default();
    match (plan.resource_kind, plan.action) {
        (Kind::Lambda, RemediationAction::Restart) => {
            let facts = runtime::lambda_facts(cloud, &plan.resource, &mut calls).await?;
            runtime::lambda_restart(cloud, &facts, stamp).await?;
            let after = match runtime::lambda_facts(cloud, &plan.resource, &mut calls).await {
                Ok(after) => after,
                Err(e) => return Ok(unread(&e)),
            };
            let seen = after.environment.iter().find(|(k, _)| k == "FABER_CLOUD_RESTARTED_AT").map(|(_, v)| v.as_str());
            if seen != Some(stamp) {
                return Err(Error::Failed(format!("restart not visible: FABER_CLOUD_RESTARTED_AT is {seen:?}, expected {stamp}")));
            }
            Ok(Acted::Verified(format!("configuration updated at {stamp}; other variables kept ({})", after.environment.len() - 1)))
        }
        (Kind::Lambda, RemediationAction::Scale) => {
            let n = capacity(plan)?;
            runtime::lambda_scale(cloud, &plan.resource, n).await?;
            let after = match runtime::lambda_facts(cloud, &plan.resource, &mut calls).await {
                Ok(after) => after,
                Err(e) => return Ok(unread(&e)),
            };
            if after.reserved_concurrency != Some(n) {
                return Err(Error::Failed(format!("reserved concurrency reads {:?} after setting {n}", after.reserved_concurrency)));
            }
            Ok(Acted::Verified(format!("reserved concurrency is now {n}")))
        }
        (Kind::Lambda, RemediationAction::Rollback) => {
            let alias = plan.scope.clone().unwrap_or_default();
            runtime::lambda_point_alias(cloud, &plan.resource, &alias, &to).await?;
            let after = match runtime::lambda_alias(cloud, &plan.resource, &mut calls).await {
                Ok(after) => after,
                Err(e) => return Ok(unread(&e)),
            };
            match after {
                Some(a) if a.current == to => Ok(Acted::Verified(format!("alias {alias} now points at version {to}"))),
                other => Err(Error::Failed(format!("alias {alias} reads {:?} after the rollback", other.map(|a| a.current)))),
            }
        }
        (Kind::EcsService, action) => {
            let cluster = plan.scope.clone().unwrap_or_default();
            match action {
                RemediationAction::Restart => runtime::ecs_update(cloud, &cluster, &plan.resource, true, None, None).await?,
                RemediationAction::Scale => runtime::ecs_update(cloud, &cluster, &plan.resource, false, Some(capacity(plan)?), None).await?,
                RemediationAction::Rollback => runtime::ecs_update(cloud, &cluster, &plan.resource, false, None, Some(&to)).await?,
            }
            let after = match runtime::ecs_facts(cloud, &cluster, &plan.resource, &mut calls).await {
                Ok(after) => after,
                Err(e) => return Ok(unread(&e)),
            };
            match action {
                RemediationAction::Scale if Some(after.desired) != plan.capacity.and_then(|c| i32::try_from(c).ok()) => {
                    Err(Error::Failed(format!("desired count reads {} after setting {to}", after.desired)))
                }
                RemediationAction::Rollback if !after.task_definition.ends_with(to.rsplit('/').next().unwrap_or(&to)) => {
                    Err(Error::Failed(format!("task definition reads {} after the rollback", after.task_definition)))
                }
                _ => Ok(Acted::Verified(format!(
                    "service {}: desired {}, running {}, task definition {}, {} deployment(s)",
                    plan.resource, after.desired, after.running, after.task_definition, after.deployments
                ))),
            }
        }
        (kind, _) => Err(Error::Failed(format!("remediate cannot act on {}", kind.as_str()))),
    }
}

/// What an action achieved, as far as its read-back could tell.
enum Acted {
    Verified(String),
    /// The change was sent and accepted; reading it back failed.
    Unverified(String),
}

fn unread(e: &Error) -> Acted {
    Acted::Unverified(format!("the change was sent and accepted, but reading it back failed ({e}): check the service before acting again"))
}

/// The capacity a scale sets, as the SDK takes it.
fn capacity(plan: &Plan) -> Result<i32, Error> {
    plan.capacity
        .and_then(|c| i32::try_from(c).ok())
        .ok_or_else(|| Error::bad_input("target", format!("{:?} is not a capacity this action can set", plan.capacity), Some("0 to 2147483647".into())))
}

/// Appends to `remediations/{env}/remediation-log.json`. The action has already
/// run, so an unreadable log is moved aside (and said so) and a new one started:
/// the entry is never lost and the old log never overwritten.
fn append_log(ws: &Workspace, env: &str, entry: LogEntry) -> Result<Option<String>, Error> {
    let path = ws.path(&format!("remediations/{env}/remediation-log.json"))?;
    let append = |entry: LogEntry| {
        ws.update_json(&path, |log: &mut Option<Vec<LogEntry>>| {
            log.get_or_insert_with(Vec::new).push(entry);
            Ok::<_, WorkspaceError>(())
        })
    };
    match append(entry.clone()) {
        Ok(()) => Ok(None),
        Err(e @ WorkspaceError::Unreadable { .. }) => {
            append(entry)?;
            Ok(Some(e.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}
