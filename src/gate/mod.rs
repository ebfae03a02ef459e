//! Production safety: every mutating operation asks the gate, which either
//! approves at once (unprotected environment with auto-approval) or stores a
//! [`PendingOperation`] under `pending/` and waits for "yes" through `confirm`.
//!
//! An [`Approval`] is the only key to a mutating action, and only this module
//! can make one (its fields are private and it has no public constructor).
//! It is single-use (not `Clone`, consumed by the executor) and bound to an
//! environment, a digest of what was approved, and an expiry.
//!
//! A pending operation on disk is sealed with a key kept outside the project
//! ([`keeper`]): an edit of any field (the action, its digest, the steps, the
//! state) or a forged file is refused, and an answered one put back is refused
//! by the keeper's ledger. Each step of a protected operation has its own id,
//! so a repeated first "yes" cannot answer the final banner. The policy is
//! read again from the configuration when an answer arrives. Answered and
//! expired operations are removed from `pending/`.
//!
//! The decisions themselves are pure, in [`policy`]; this module stores and
//! audits them.

pub mod keeper;
pub mod policy;

use chrono::{DateTime, Duration, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

use crate::config::Config;
use crate::vocabulary::{ActionKind, Report, Status};
use crate::workspace::{AuditEntry, Outcome, Workspace, WorkspaceError};
use keeper::{Answer, Keeper};
pub use policy::{BannerFacts, ChangeCounts, EnvPolicy, Verdict};

#[derive(Debug, Error)]
pub enum GateError {
    #[error("operation_id: \"{id}\" is not an operation id (accepted: the id returned by the operation that asked for confirmation)")]
    InvalidId { id: String },
    #[error("operation_id: no pending operation {id}")]
    Unknown { id: String },
    #[error("operation {id} expired at {expires_at}; run the operation again to get a new confirmation")]
    Expired { id: String, expires_at: DateTime<Utc> },
    #[error("operation {id} was already confirmed and used; an approval works once — run the operation again")]
    AlreadyUsed { id: String },
    #[error("operation {id} was cancelled; run the operation again to get a new confirmation")]
    Cancelled { id: String },
    #[error("the approval is for environment {approved}, not {target}; refused")]
    EnvMismatch { approved: String, target: String },
    #[error("what was approved has changed since (digest {approved} vs {current}); refused — preview and confirm again")]
    DigestMismatch { approved: String, current: String },
    #[error("the approved operation {id} holds a {stored:?} action, not {wanted:?}, or one this version cannot read: {detail}")]
    WrongAction { id: String, stored: ActionKind, wanted: ActionKind, detail: String },
    #[error(
        "operation {id}: this step was already answered \"yes\"; the next confirmation has its own operation_id {next}: show its banner and answer that one"
    )]
    StepAnswered { id: String, next: String },
    #[error(
        "operation {id} was approved, but no outcome of its action was ever recorded (the process stopped between the approval and the action?): look at the environment (show-resources, check-health), then run the operation again if it is still needed"
    )]
    ApprovedNoOutcome { id: String },
    #[error("operation {id} was changed on disk since it was stored (its seal does not match); refused, nothing runs — run the operation again")]
    Tampered { id: String },
    #[error("operation {id} is for environment {env}, which the configuration no longer has; refused")]
    EnvGone { id: String, env: String },
    #[error("no place to keep the gate's key: set FABER_CLOUD_STATE_DIR (or HOME) to a directory outside the project")]
    NoStateDir,
    #[error("{path}: the gate's key is not 32 bytes; move it away (pending confirmations are then refused) and run the operation again")]
    BadKey { path: std::path::PathBuf },
    #[error("{path}: the gate's ledger of answers cannot be read ({detail}); move it away and run the operation again")]
    BadLedger { path: std::path::PathBuf, detail: String },
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
}

impl GateError {
    /// Errors about the caller's input rather than the state of things.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, GateError::InvalidId { .. } | GateError::Unknown { .. })
    }

    pub fn field(&self) -> Option<&'static str> {
        self.is_bad_input().then_some("operation_id")
    }
}

/// Where a pending operation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PendingState {
    Awaiting,
    Approved,
    Cancelled,
    Expired,
}

/// An operation waiting for confirmation, as stored in `pending/{id}.json`.
/// Each step has its own id; `origin` is the first step's.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PendingOperation {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    pub env: String,
    pub operation: String,
    pub summary: String,
    pub digest: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub steps_required: u8,
    pub steps_done: u8,
    pub protected: bool,
    pub state: PendingState,
    /// The banner to show before the next answer.
    pub banner: String,
    pub facts: BannerFacts,
    /// What to run once approved.
    pub action: StoredAction,
    /// HMAC of everything above with the keeper's key.
    #[serde(default)]
    pub seal: String,
}

impl PendingOperation {
    fn sealed_bytes(&self) -> Vec<u8> {
        let mut unsealed = self.clone();
        unsealed.seal.clear();
        serde_json::to_vec(&unsealed).expect("pending operations serialise")
    }
}

/// What the caller sees of a pending operation: the banner and how to answer it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Pending {
    pub operation_id: String,
    pub env: String,
    pub operation: String,
    pub protected: bool,
    pub steps_required: u8,
    pub steps_done: u8,
    /// Show this to the human before asking.
    pub banner: String,
    pub digest: String,
    pub expires_at: DateTime<Utc>,
    pub how_to_answer: String,
}

impl From<&PendingOperation> for Pending {
    fn from(op: &PendingOperation) -> Pending {
        Pending {
            operation_id: op.id.clone(),
            env: op.env.clone(),
            operation: op.operation.clone(),
            protected: op.protected,
            steps_required: op.steps_required,
            steps_done: op.steps_done,
            banner: op.banner.clone(),
            digest: op.digest.clone(),
            expires_at: op.expires_at,
            how_to_answer: format!(
                "Show the banner to the human. Call confirm {{operation_id: \"{}\", response}} with their exact answer (CLI: faber-cloud confirm {} <answer>); only \"yes\" proceeds, anything else cancels.",
                op.id, op.id
            ),
        }
    }
}

impl Report for Pending {
    fn status(&self) -> Status {
        Status::AwaitingConfirmation
    }

    fn text(&self) -> String {
        format!(
            "{}\n\nAwaiting confirmation {} of {} for {} on {} (operation_id {}, expires {}).\n{}",
            self.banner,
            self.steps_done + 1,
            self.steps_required,
            self.operation,
            self.env,
            self.operation_id,
            self.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            self.how_to_answer
        )
    }
}

/// A pending operation that was answered with anything but "yes".
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Cancelled {
    pub operation_id: String,
    pub env: String,
    pub operation: String,
}

impl Report for Cancelled {
    fn status(&self) -> Status {
        Status::Cancelled
    }

    fn text(&self) -> String {
        format!("Cancelled: {} on {} will not run.", self.operation, self.env)
    }
}

impl From<&PendingOperation> for Cancelled {
    fn from(op: &PendingOperation) -> Cancelled {
        Cancelled { operation_id: op.id.clone(), env: op.env.clone(), operation: op.operation.clone() }
    }
}

/// A mutating action the gate can hold until it is approved: a typed payload
/// of one [`ActionKind`], read back by the executor of that kind only.
pub trait Gated: Serialize + DeserializeOwned {
    const KIND: ActionKind;
}

/// What a pending operation will run, as stored: its kind and its payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StoredAction {
    pub kind: ActionKind,
    pub payload: Value,
}

impl StoredAction {
    pub fn of<A: Gated>(action: &A) -> StoredAction {
        StoredAction { kind: A::KIND, payload: serde_json::to_value(action).expect("gated actions serialise") }
    }

    /// A stable digest of the kind and the payload (what a remediation's approval binds to).
    pub fn digest(&self) -> String {
        digest_json(&serde_json::to_value(self).expect("stored actions serialise"))
    }
}

/// A mutating request put to the gate.
#[derive(Debug, Clone)]
pub struct GateRequest {
    pub facts: BannerFacts,
    /// Binds the approval to exactly what was shown (a plan file's hash, or
    /// the remediation parameters' hash).
    pub digest: String,
    pub action: StoredAction,
}

/// Proof that a human (or the configuration, for unprotected environments)
/// approved this operation. Only the gate makes one.
#[derive(Debug)]
pub struct Approval {
    id: String,
    env: String,
    operation: String,
    digest: String,
    expires_at: DateTime<Utc>,
    action: StoredAction,
}

impl Approval {
    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn env(&self) -> &str {
        &self.env
    }
    pub fn operation(&self) -> &str {
        &self.operation
    }
    pub fn digest(&self) -> &str {
        &self.digest
    }
    /// Which executor runs this approval.
    pub fn kind(&self) -> ActionKind {
        self.action.kind
    }
    pub fn stored(&self) -> &StoredAction {
        &self.action
    }
    /// The approved action, read as the type its executor expects.
    pub fn action<A: Gated>(&self) -> Result<A, GateError> {
        let wrong = |detail: String| GateError::WrongAction { id: self.id.clone(), stored: self.action.kind, wanted: A::KIND, detail };
        if self.action.kind != A::KIND {
            return Err(wrong("another kind".into()));
        }
        serde_json::from_value(self.action.payload.clone()).map_err(|e| wrong(e.to_string()))
    }

    /// The executor's re-check right before acting: same environment, same
    /// digest, not expired.
    pub fn check(&self, env: &str, current_digest: &str, now: DateTime<Utc>) -> Result<(), GateError> {
        if self.env != env {
            return Err(GateError::EnvMismatch { approved: self.env.clone(), target: env.into() });
        }
        if self.digest != current_digest {
            return Err(GateError::DigestMismatch { approved: self.digest.clone(), current: current_digest.into() });
        }
        if now > self.expires_at {
            return Err(GateError::Expired { id: self.id.clone(), expires_at: self.expires_at });
        }
        Ok(())
    }
}

/// The gate's answer to a request.
#[derive(Debug)]
#[allow(clippy::large_enum_variant, reason = "one value per request; boxing buys nothing")]
pub enum Requested {
    Approved(Approval),
    Pending(PendingOperation),
}

/// The gate's answer to a confirmation.
#[derive(Debug)]
pub enum Answered {
    /// One more "yes" is needed; shows the final banner.
    NextStep(PendingOperation),
    Approved(Approval, PendingOperation),
    Cancelled(PendingOperation),
}

pub struct Gate<'a> {
    ws: &'a Workspace,
    ttl: Duration,
    keeper: Keeper,
}

impl<'a> Gate<'a> {
    pub fn new(ws: &'a Workspace, ttl: Duration, keeper: Keeper) -> Gate<'a> {
        Gate { ws, ttl, keeper }
    }

    /// The gate with the configured confirmation time-to-live and the keeper of this user.
    pub fn for_config(ws: &'a Workspace, config: &Config) -> Gate<'a> {
        Gate::new(ws, config.confirmation_ttl(), Keeper::from_env())
    }

    /// Asks for a verdict; stores and audits a pending operation when one is needed.
    pub fn request(&self, env: EnvPolicy, requested_auto_approve: bool, req: GateRequest, now: DateTime<Utc>) -> Result<Requested, GateError> {
        self.sweep(now);
        let id = uuid::Uuid::new_v4().to_string();
        let expires_at = now + self.ttl;
        match policy::verdict(env, requested_auto_approve) {
            Verdict::Approve => {
                self.audit(&req.facts, Outcome::Approved, &id, &req.digest, Some("auto-approved: unprotected environment"))?;
                Ok(Requested::Approved(Approval { id, env: req.facts.env, operation: req.facts.operation, digest: req.digest, expires_at, action: req.action }))
            }
            Verdict::Confirm { steps } => {
                let detail = (requested_auto_approve && env.protected).then_some("auto-approve ignored: protected environment");
                let mut pending = PendingOperation {
                    banner: policy::banner(&req.facts, env.protected, 1, steps),
                    id,
                    origin: None,
                    env: req.facts.env.clone(),
                    operation: req.facts.operation.clone(),
                    summary: req.facts.summary.clone(),
                    digest: req.digest,
                    created_at: now,
                    expires_at,
                    steps_required: steps,
                    steps_done: 0,
                    protected: env.protected,
                    state: PendingState::Awaiting,
                    facts: req.facts,
                    action: req.action,
                    seal: String::new(),
                };
                self.save(&mut pending)?;
                self.audit(&pending.facts, Outcome::Requested, &pending.id, &pending.digest, detail)?;
                Ok(Requested::Pending(pending))
            }
        }
    }

    /// Approves `req` for a CI run that named its environment in its approval flag (`--ci-approve ENV`): there is
    /// no person to answer in CI, and the reviewers approved the run itself (a GitHub environment with required
    /// reviewers). Audited as approved, with the run's identity. The caller checks that the flag names this
    /// environment and that the plan loses no data.
    pub fn approve_in_ci(&self, req: GateRequest, identity: &str, now: DateTime<Utc>) -> Result<Approval, GateError> {
        self.sweep(now);
        let id = uuid::Uuid::new_v4().to_string();
        self.audit(&req.facts, Outcome::Approved, &id, &req.digest, Some(&format!("approved in CI by the approval flag: {identity}")))?;
        Ok(Approval { id, env: req.facts.env, operation: req.facts.operation, digest: req.digest, expires_at: now + self.ttl, action: req.action })
    }

    /// Records one answer to the step `id`. Exactly "yes" advances; anything
    /// else cancels. `policy_now` gives the environment's policy as configured
    /// now: a step more is asked when the environment became protected since.
    pub fn answer(&self, id: &str, response: &str, policy_now: impl Fn(&str) -> Option<EnvPolicy>, now: DateTime<Utc>) -> Result<Answered, GateError> {
        #[allow(clippy::large_enum_variant, reason = "one value per answer; boxing buys nothing")]
        enum Step {
            Refuse(BannerFacts, GateError),
            Cancel(PendingOperation),
            Next(PendingOperation, PendingOperation),
            Approve(PendingOperation),
        }
        let path = self.pending_path(id)?;
        let scope = self.ws.root();
        let ledger = |op: &PendingOperation, answer: Answer, next: Option<String>| {
            let entry = keeper::Answered { id: op.id.clone(), env: op.env.clone(), operation: op.operation.clone(), answer, expires_at: op.expires_at, next };
            self.keeper.record(entry, now).map(|recorded| recorded.map_err(|earlier| refusal(id, &earlier)))
        };
        // Everything happens under the file's lock, and the ledger is written
        // before the file is removed and any approval leaves: single use.
        let step = self.ws.update_json(&path, |slot: &mut Option<PendingOperation>| {
            if let Some(earlier) = self.keeper.answered(id)? {
                *slot = None;
                let facts = BannerFacts { env: earlier.env.clone(), operation: earlier.operation.clone(), ..Default::default() };
                let err = match refusal(id, &earlier) {
                    GateError::AlreadyUsed { id } if earlier.answer == Answer::Approved && !self.outcome_recorded(&id) => GateError::ApprovedNoOutcome { id },
                    other => other,
                };
                return Ok(Step::Refuse(facts, err));
            }
            let Some(op) = slot.clone() else { return Err(GateError::Unknown { id: id.into() }) };
            if op.id != id || !self.keeper.verify(scope, &op.sealed_bytes(), &op.seal)? {
                let facts = BannerFacts { env: op.env.clone(), operation: op.operation.clone(), ..Default::default() };
                return Ok(Step::Refuse(facts, GateError::Tampered { id: id.into() }));
            }
            let refuse = |err: GateError| Ok(Step::Refuse(op.facts.clone(), err));
            match op.state {
                PendingState::Approved => return refuse(GateError::AlreadyUsed { id: id.into() }),
                PendingState::Cancelled => return refuse(GateError::Cancelled { id: id.into() }),
                PendingState::Expired => return refuse(GateError::Expired { id: id.into(), expires_at: op.expires_at }),
                PendingState::Awaiting => {}
            }
            if now > op.expires_at {
                if let Err(e) = ledger(&op, Answer::Expired, None)? {
                    return refuse(e);
                }
                *slot = None;
                return refuse(GateError::Expired { id: id.into(), expires_at: op.expires_at });
            }
            let Some(current) = policy_now(&op.env) else {
                return refuse(GateError::EnvGone { id: id.into(), env: op.env.clone() });
            };
            if !policy::is_yes(response) {
                if let Err(e) = ledger(&op, Answer::Cancelled, None)? {
                    return refuse(e);
                }
                *slot = None;
                return Ok(Step::Cancel(op));
            }
            let protected = op.protected || current.protected;
            let steps_required = op.steps_required.max(current.steps());
            let steps_done = op.steps_done + 1;
            if steps_done < steps_required {
                let mut next = PendingOperation {
                    id: uuid::Uuid::new_v4().to_string(),
                    origin: Some(op.origin.clone().unwrap_or_else(|| op.id.clone())),
                    banner: policy::banner(&op.facts, protected, steps_done + 1, steps_required),
                    steps_required,
                    steps_done,
                    protected,
                    seal: String::new(),
                    ..op.clone()
                };
                self.save(&mut next)?;
                if let Err(e) = ledger(&op, Answer::Stepped, Some(next.id.clone()))? {
                    return refuse(e);
                }
                *slot = None;
                return Ok(Step::Next(op, next));
            }
            if let Err(e) = ledger(&op, Answer::Approved, None)? {
                return refuse(e);
            }
            *slot = None;
            Ok(Step::Approve(PendingOperation { steps_done, steps_required, protected, state: PendingState::Approved, ..op }))
        })?;
        let origin = |op: &PendingOperation| op.origin.as_ref().map(|o| format!(" (operation {o})")).unwrap_or_default();
        match step {
            Step::Refuse(facts, err) => {
                self.audit(&facts, Outcome::Refused, id, "", Some(&err.to_string()))?;
                Err(err)
            }
            Step::Cancel(op) => {
                self.audit(&op.facts, Outcome::Cancelled, &op.id, &op.digest, Some(&format!("answer was not \"yes\"{}", origin(&op))))?;
                Ok(Answered::Cancelled(op))
            }
            Step::Next(op, next) => {
                let detail = format!("confirmation {} of {}{}; next step {}", next.steps_done, next.steps_required, origin(&op), next.id);
                self.audit(&op.facts, Outcome::Confirmed, &op.id, &op.digest, Some(&detail))?;
                Ok(Answered::NextStep(next))
            }
            Step::Approve(op) => {
                self.audit(
                    &op.facts,
                    Outcome::Approved,
                    &op.id,
                    &op.digest,
                    Some(&format!("confirmation {} of {}{}", op.steps_done, op.steps_required, origin(&op))),
                )?;
                let approval = Approval {
                    id: op.id.clone(),
                    env: op.env.clone(),
                    operation: op.operation.clone(),
                    digest: op.digest.clone(),
                    expires_at: op.expires_at,
                    action: op.action.clone(),
                };
                Ok(Answered::Approved(approval, op))
            }
        }
    }

    /// Whether the audit trail holds how the approved action `id` ended (or that it started).
    fn outcome_recorded(&self, id: &str) -> bool {
        self.ws.audited_outcomes(id).into_iter().any(|o| o == Outcome::Executed || o.is_end())
    }

    /// Removes pending operations past their expiry (a best effort: what
    /// cannot be read or removed stays for the next sweep).
    fn sweep(&self, now: DateTime<Utc>) {
        let Ok(dir) = self.ws.path("pending") else { return };
        let Ok(entries) = std::fs::read_dir(&dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let expired = std::fs::read(&path).ok().and_then(|b| serde_json::from_slice::<PendingOperation>(&b).ok()).is_some_and(|op| op.expires_at < now);
            if expired {
                let _ = self.ws.update_json(&path, |slot: &mut Option<PendingOperation>| {
                    if slot.as_ref().is_some_and(|op| op.expires_at < now) {
                        *slot = None;
                    }
                    Ok::<_, WorkspaceError>(())
                });
            }
        }
    }

    fn pending_path(&self, id: &str) -> Result<std::path::PathBuf, GateError> {
        // Only canonical UUIDs: an id never becomes a path it should not.
        if crate::vocabulary::input::is_canonical_uuid(id) {
            Ok(self.ws.path(&format!("pending/{id}.json"))?)
        } else {
            Err(GateError::InvalidId { id: id.chars().take(80).collect() })
        }
    }

    fn save(&self, op: &mut PendingOperation) -> Result<(), GateError> {
        op.seal = self.keeper.seal(self.ws.root(), &op.sealed_bytes())?;
        let path = self.pending_path(&op.id)?;
        Ok(self.ws.write_json_exact(&path, op)?)
    }

    fn audit(&self, facts: &BannerFacts, outcome: Outcome, id: &str, digest: &str, detail: Option<&str>) -> Result<(), GateError> {
        let mut entry = AuditEntry::new(&facts.operation, &facts.env, outcome);
        entry.operation_id = Some(id.into());
        entry.digest = (!digest.is_empty()).then(|| digest.into());
        entry.detail = detail.map(str::to_string);
        Ok(self.ws.audit(&entry)?)
    }
}

/// Why an operation the ledger knows cannot be answered again.
fn refusal(id: &str, earlier: &keeper::Answered) -> GateError {
    let id = id.to_string();
    match (earlier.answer, &earlier.next) {
        (Answer::Stepped, Some(next)) => GateError::StepAnswered { id, next: next.clone() },
        (Answer::Approved | Answer::Stepped, _) => GateError::AlreadyUsed { id },
        (Answer::Cancelled, _) => GateError::Cancelled { id },
        (Answer::Expired, _) => GateError::Expired { id, expires_at: earlier.expires_at },
    }
}

/// A stable digest of any JSON value (for remediation parameters and tests).
pub fn digest_json(value: &Value) -> String {
    use sha2::{Digest, Sha256};
    format!("sha256:{}", hex::encode(Sha256::digest(value.to_string().as_bytes())))
}

#[cfg(test)]
mod tests;
