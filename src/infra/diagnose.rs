//! The I/O side of `debug`: classify a message (pure, `debug/`), record it in
//! the learning log `deployments/issue-log.json` (atomically, under its lock),
//! rank the known solutions with their evidence, and, for a permission error
//! with a principal to attach to, propose the least-privilege fix that the
//! caller sends through the gate.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cloud::{Caller, Cloud};
use crate::config::Config;
use crate::error::Error;
use crate::gate::{Approval, BannerFacts, EnvPolicy, Gate, GateRequest, Gated, Pending, Requested, StoredAction};
use crate::infra::debug::{self, Diagnosis, IssueLog, SolutionKind};
use crate::vocabulary::Report;
use crate::vocabulary::{ActionKind, Reply};
use crate::workspace::{AuditEntry, Outcome, Workspace};

pub const ISSUE_LOG: &str = "deployments/issue-log.json";

/// A solution as shown, with its record.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Ranked {
    pub id: String,
    pub kind: SolutionKind,
    pub description: String,
    pub attempts: u64,
    pub successes: u64,
    pub score: f64,
    pub evidence: String,
}

/// The permission fix to put through the gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FixProposal {
    pub env: String,
    /// The IAM user or role that gets the statement.
    pub principal: String,
    pub policy_name: String,
    pub document: Value,
    pub notes: Vec<String>,
    pub signature_id: String,
    pub solution_id: String,
}

impl Gated for FixProposal {
    const KIND: ActionKind = ActionKind::PermissionFix;
}

/// What `debug` returns: the report, and the permission fix waiting at the gate when there is one.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Debugged {
    #[serde(flatten)]
    pub report: DebugReport,
    /// The fix waiting for a "yes" (its operation id and banner are also at the top level).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix_pending: Option<Reply<Pending>>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub awaiting: Option<Pending>,
}

impl Report for Debugged {
    fn status(&self) -> crate::vocabulary::Status {
        self.awaiting.as_ref().map_or(crate::vocabulary::Status::Ok, Report::status)
    }
    fn text(&self) -> String {
        match &self.awaiting {
            Some(p) => format!("{}\n\n{}", self.report.text(), p.text()),
            None => self.report.text(),
        }
    }
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct DebugReport {
    pub env: String,
    pub diagnosis: Diagnosis,
    /// How often this signature has been seen (this time included).
    pub occurrences: u64,
    pub solutions: Vec<Ranked>,
    /// Present for a permission error whose principal is known.
    pub fix: Option<FixProposal>,
    /// Fixes applied earlier whose outcome this result settled: (solution, worked).
    pub settled: Vec<(String, bool)>,
    pub issue_log: PathBuf,
}

/// Loads, changes and saves the learning log under its lock.
pub fn with_log<T>(ws: &Workspace, change: impl FnOnce(&mut IssueLog) -> T) -> Result<T, Error> {
    ws.update_json(&ws.path(ISSUE_LOG)?, |log: &mut Option<IssueLog>| Ok(change(log.get_or_insert_with(IssueLog::new))))
}

/// Diagnoses `message` for `env`, records the occurrence (and, for a failed
/// deploy, settles fixes that were waiting for it), and proposes a fix.
/// `caller` is the deploy principal when known (from STS).
pub fn record(ws: &Workspace, env: &str, message: &str, caller: Option<&str>, settle_deploy: bool, now: DateTime<Utc>) -> Result<DebugReport, Error> {
    let diagnosis = debug::classify(message);
    let (occurrences, solutions, settled) = with_log(ws, |log| {
        let settled = if settle_deploy { debug::settle(log, env, Some(&diagnosis.signature_id), now) } else { Vec::new() };
        if settle_deploy {
            debug::record_failure(log, env, message, &diagnosis.signature_id, now);
        }
        let issue = debug::record_occurrence(log, &diagnosis, now);
        let solutions: Vec<Ranked> = debug::ranked_solutions(issue)
            .into_iter()
            .map(|r| Ranked {
                id: r.solution.id.clone(),
                kind: r.solution.kind,
                description: r.solution.description.clone(),
                attempts: r.solution.attempts,
                successes: r.solution.successes,
                score: (r.score * 1000.0).round() / 1000.0,
                evidence: r.evidence,
            })
            .collect();
        (issue.occurrences, solutions, settled.into_iter().map(|(a, ok)| (a.solution_id, ok)).collect())
    })?;
    let fix = proposal(env, &diagnosis, caller);
    Ok(DebugReport { env: env.into(), diagnosis, occurrences, solutions, fix, settled, issue_log: ws.path(ISSUE_LOG)? })
}

/// The permission fix for a diagnosis, on the principal the message names or else the caller.
fn proposal(env: &str, d: &Diagnosis, caller: Option<&str>) -> Option<FixProposal> {
    let (solution, fix) = d.suggested_solutions.iter().find_map(|s| s.permission_fix.as_ref().map(|f| (s, f)))?;
    let mut notes = fix.notes.clone();
    let principal = match &fix.principal {
        Some(p) => p.clone(),
        None => {
            let mut why = Vec::new();
            let p = caller.and_then(|c| debug::attachable(c, &mut why))?;
            notes.retain(|n| !n.starts_with("The message does not name the caller"));
            notes.push(format!("The message names no principal: the statement goes on the deploy principal {p} (from STS)."));
            p
        }
    };
    Some(FixProposal {
        env: env.into(),
        principal,
        policy_name: format!("faber-cloud-fix-{}", &d.signature_id[..d.signature_id.len().min(12)]),
        document: fix.policy_document(),
        notes,
        signature_id: d.signature_id.clone(),
        solution_id: solution.id.clone(),
    })
}

/// The message of the last failed deploy of `env`, for `debug` without
/// `--error`; `None` when no deploy of `env` has failed since the learning
/// log was started.
pub fn last_failed_deploy(ws: &Workspace, env: &str) -> Result<Option<String>, Error> {
    let path = ws.path(ISSUE_LOG)?;
    if !path.is_file() {
        return Ok(None);
    }
    with_log(ws, |log| debug::last_failure(log, env).map(|f| f.message.clone()))
}

/// Records a successful deploy of `env`: fixes waiting for it worked.
pub fn deploy_succeeded(ws: &Workspace, env: &str, now: DateTime<Utc>) -> Result<Vec<(String, bool)>, Error> {
    let path = ws.path(ISSUE_LOG)?;
    if !path.is_file() {
        return Ok(Vec::new());
    }
    with_log(ws, |log| debug::settle(log, env, None, now).into_iter().map(|(a, ok)| (a.solution_id, ok)).collect())
}

/// Marks an applied fix as waiting for the next deploy of its environment.
pub fn fix_applied(ws: &Workspace, fix: &FixProposal, now: DateTime<Utc>) -> Result<(), Error> {
    with_log(ws, |log| {
        log.awaiting.retain(|a| !(a.env == fix.env && a.signature_id == fix.signature_id && a.solution_id == fix.solution_id));
        log.awaiting.push(debug::Awaiting {
            env: fix.env.clone(),
            signature_id: fix.signature_id.clone(),
            solution_id: fix.solution_id.clone(),
            applied_at: now,
        });
    })
}

/// The report as a few lines for people.
impl Report for DebugReport {
    fn text(&self) -> String {
        let r = self;
        let d = &r.diagnosis;
        let mut out = format!(
            "Category: {} (confidence {:?}, rule {}). {}\nSeen {} time(s) (signature {}).",
            d.category.as_str(),
            d.confidence,
            d.rule,
            d.explanation,
            r.occurrences,
            d.signature_id
        );
        for (i, s) in r.solutions.iter().take(3).enumerate() {
            out.push_str(&format!("\n{}. {} — {}", i + 1, s.description, s.evidence));
        }
        if let Some(more) = crate::vocabulary::report::more(3, r.solutions.len(), "solution(s)") {
            out.push_str(&format!("\n{more}"));
        }
        if let Some(f) = &r.fix {
            out.push_str(&format!("\nProposed least-privilege fix on {}: {}", f.principal, f.document["Statement"][0]));
        }
        out
    }
}

/// Puts a permission fix to the gate. It always waits for a human "yes":
/// an IAM change made with the `discover` profile is never auto-approved,
/// whatever `auto_approve` says.
pub fn request_fix(ws: &Workspace, config: &Config, fix: &FixProposal) -> Result<Pending, Error> {
    let facts = BannerFacts {
        env: fix.env.clone(),
        operation: "permission-fix".into(),
        summary: format!("Attach the inline policy {} to {}: {}", fix.policy_name, fix.principal, fix.document["Statement"][0]),
        region: Some(config.region().to_string()),
        profile: crate::cloud::auth::target(config, "discover").profile().map(str::to_string),
        account: config.aws().and_then(|a| a.account_id.clone()),
        ..Default::default()
    };
    let action = StoredAction::of(fix);
    let request = GateRequest { facts, digest: action.digest(), action };
    let policy = EnvPolicy::of(config, &fix.env)?.always_confirm();
    match Gate::for_config(ws, config).request(policy, false, request, Utc::now())? {
        Requested::Pending(op) => Ok(Pending::from(&op)),
        Requested::Approved(_) => unreachable!("a policy that always confirms never approves at once"),
    }
}

/// An applied permission fix.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct FixApplied {
    pub operation_id: String,
    pub env: String,
    pub applied: FixProposal,
    /// Who attached it (the discover profile's caller), when STS answered.
    pub applied_by: Option<Caller>,
    /// What to run next.
    pub next: String,
}

impl Report for FixApplied {
    fn text(&self) -> String {
        format!(
            "Applied the permission fix: inline policy {} on {} (with the discover profile). Retry the deploy ({}); its outcome is recorded in the learning log.",
            self.applied.policy_name, self.applied.principal, self.next
        )
    }
}

/// Applies an approved permission fix with the `discover` profile, audits it,
/// and marks it as waiting for the next deploy's outcome.
pub async fn apply_fix(ws: &Workspace, approval: Approval, fix: FixProposal) -> Result<FixApplied, Error> {
    let config = Config::load(ws)?;
    approval.check(&fix.env, &approval.stored().digest(), Utc::now())?;
    let discover = Cloud::connect(&config, "discover").await;
    let caller = discover.caller().await.ok();
    let mut entry = AuditEntry::new("permission-fix", &fix.env, Outcome::Executed);
    entry.aws_caller = caller.as_ref().map(|c| c.arn.clone());
    entry.operation_id = Some(approval.id().into());
    entry.digest = Some(approval.digest().into());
    let result = crate::cloud::iam::put_inline_policy(&discover, &fix.principal, &fix.policy_name, &fix.document).await;
    entry.outcome = if result.is_ok() { Outcome::Succeeded } else { Outcome::Failed };
    entry.detail = Some(match &result {
        Ok(()) => format!(
            "attached {} to {} as {} ({})",
            fix.policy_name,
            fix.principal,
            caller.as_ref().map_or("an identity STS did not name", |c| c.arn.as_str()),
            discover.target.profile().map_or("no discover profile configured: the ambient credentials".to_string(), |p| format!("the discover profile {p}"))
        ),
        Err(e) => e.to_string(),
    });
    ws.audit(&entry)?;
    result?;
    fix_applied(ws, &fix, Utc::now())?;
    Ok(FixApplied { operation_id: approval.id().into(), env: fix.env.clone(), next: format!("deploy --env {}", fix.env), applied: fix, applied_by: caller })
}
