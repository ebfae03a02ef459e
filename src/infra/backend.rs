//! The state backend bootstrap: before preview, deploy or teardown, the S3
//! bucket that holds the environment's Terraform state must exist. When it
//! does not, the operation stops with an offer to create it through the gate
//! (versioning, encryption, public access blocked); Terraform's own lock file
//! beside each state (`use_lockfile = true` in the generated backend file)
//! keeps two machines from applying one environment at once.

use chrono::Utc;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::cloud::{Caller, Cloud, state};
use crate::config::Config;
use crate::error::Error;
use crate::gate::{Approval, BannerFacts, EnvPolicy, Gate, GateRequest, Gated, Pending, Requested, StoredAction};
use crate::vocabulary::{ActionKind, Report, Status};
use crate::workspace::{AuditEntry, Outcome, Workspace};

/// How long `config validate` waits for AWS to say whether a state bucket exists.
const VALIDATE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// What an approval of the bootstrap creates.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BootstrapAction {
    pub env: String,
    pub bucket: String,
    pub region: String,
}

impl Gated for BootstrapAction {
    const KIND: ActionKind = ActionKind::BootstrapBackend;
}

/// An operation that could not start because its state bucket is missing, and the offer to create it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct BackendMissing {
    #[serde(flatten)]
    pub pending: Pending,
    pub bucket: String,
    pub region: String,
    /// The operation that stopped, to run again once the bucket exists.
    pub then: String,
}

impl Report for BackendMissing {
    fn status(&self) -> Status {
        self.pending.status()
    }
    fn text(&self) -> String {
        format!(
            "The S3 bucket {} that holds the Terraform state of {} does not exist yet, so {} did not start.\n\n{}\n\nOnce it is created, run {} again.",
            self.bucket,
            self.pending.env,
            self.then,
            self.pending.text(),
            self.then
        )
    }
}

/// The state bucket, created.
#[derive(Debug, Serialize, JsonSchema)]
pub struct BackendCreated {
    pub env: String,
    pub bucket: String,
    pub region: String,
    /// The AWS calls made, in order.
    pub calls: Vec<String>,
}

impl Report for BackendCreated {
    fn text(&self) -> String {
        format!(
            "Created the state bucket {} in {} (versioning on, AES-256 encryption, public access blocked). Preview and deploy {} can run now.",
            self.bucket, self.region, self.env
        )
    }
}

/// `None` when the environment's state bucket exists (or the backend is not S3); otherwise the bootstrap waiting
/// at the gate. `cloud` and `caller` are the environment's, already checked (so a missing profile or another
/// account is named before any S3 call); `then` names the operation that asked.
pub async fn check(ws: &Workspace, config: &Config, env: &str, cloud: &Cloud, caller: &Caller, then: &str) -> Result<Option<BackendMissing>, Error> {
    let Some((bucket, region)) = bucket_of(config, env)? else {
        return Ok(None);
    };
    if state::bucket_exists(cloud, &bucket).await? {
        return Ok(None);
    }
    let facts = BannerFacts {
        env: env.into(),
        operation: "bootstrap-state-backend".into(),
        summary: format!(
            "Create the S3 bucket {bucket} in {region} for Terraform's state: versioning on (an earlier state can be recovered), \
             AES-256 encryption, every public access blocked. Terraform locks each state with a lock file beside it \
             (use_lockfile = true, Terraform ≥ 1.10), so two machines cannot apply one environment at once."
        ),
        account: Some(caller.account.clone()),
        region: Some(region.clone()),
        profile: cloud.target.profile().map(str::to_string),
        ..Default::default()
    };
    let action = StoredAction::of(&BootstrapAction { env: env.into(), bucket: bucket.clone(), region: region.clone() });
    let request = GateRequest { facts, digest: action.digest(), action };
    match Gate::for_config(ws, config).request(EnvPolicy::of(config, env)?.always_confirm(), false, request, Utc::now())? {
        Requested::Pending(op) => Ok(Some(BackendMissing { pending: Pending::from(&op), bucket, region, then: then.into() })),
        Requested::Approved(_) => unreachable!("the bootstrap always waits for a person: its policy is always_confirm"),
    }
}

/// Creates the approved state bucket.
pub async fn execute(ws: &Workspace, approval: Approval, action: BootstrapAction) -> Result<BackendCreated, Error> {
    let config = Config::load(ws)?;
    let digest = StoredAction::of(&action).digest();
    approval.check(&action.env, &digest, Utc::now())?;
    let cloud = Cloud::connect(&config, &action.env).await;
    let caller = cloud.checked_caller(&config).await?;
    let mut entry = AuditEntry::new("bootstrap-state-backend", &action.env, Outcome::Executed);
    entry.aws_caller = Some(caller.arn.clone());
    entry.operation_id = Some(approval.id().into());
    entry.detail = Some(format!("creating s3://{}", action.bucket));
    ws.audit(&entry)?;
    // Someone may have created it since the banner was shown: then there is nothing to do.
    let calls = if state::bucket_exists(&cloud, &action.bucket).await? {
        vec!["s3:HeadBucket (it exists already)".to_string()]
    } else {
        state::create_state_bucket(&cloud, &action.bucket, &action.region).await?
    };
    let mut done = AuditEntry::new("bootstrap-state-backend", &action.env, Outcome::Succeeded);
    done.aws_caller = Some(caller.arn);
    done.operation_id = Some(approval.id().into());
    done.detail = Some(calls.join(", "));
    ws.audit(&done)?;
    Ok(BackendCreated { env: action.env, bucket: action.bucket, region: action.region, calls })
}

/// One warning per configured environment whose state bucket is missing or could not be checked.
pub async fn warnings(config: &Config) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for env in config.env_names() {
        let Ok(Some((bucket, _))) = bucket_of(config, &env) else { continue };
        if seen.contains(&bucket) {
            continue;
        }
        seen.push(bucket.clone());
        let cloud = Cloud::connect(config, &env).await;
        match tokio::time::timeout(VALIDATE_WAIT, state::bucket_exists(&cloud, &bucket)).await {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) => {
                out.push(format!("the state bucket {bucket} ({env}) does not exist yet: the first preview or deploy of {env} offers to create it"))
            }
            Ok(Err(e)) => out.push(format!("could not check the state bucket {bucket} ({env}): {e}")),
            Err(_) => out.push(format!("could not check the state bucket {bucket} ({env}): no answer from AWS within {} s", VALIDATE_WAIT.as_secs())),
        }
    }
    out
}

fn bucket_of(config: &Config, env: &str) -> Result<Option<(String, String)>, Error> {
    if config.aws().is_none() {
        return Ok(None);
    }
    config.state_bucket(env).map_err(|e| Error::bad_input("handlers.iac.terraform.backend.bucket", e.to_string(), None))
}
