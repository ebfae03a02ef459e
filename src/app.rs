//! `App`: the workspace and configuration behind every entry point, and the
//! library functions the MCP tools and the CLI both call: director, confirm,
//! config, and the dispatch of approved (gated) actions.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::{self, Config, ConfigError, InitOptions};
use crate::director::{self, Choice, Intent, Routing, Target};
use crate::error::Error;
use crate::gate::{self, Answered, Approval, BannerFacts, EnvPolicy, Gate, GateRequest, PendingOperation, Requested};
use crate::infra::{self, InfraRequest};
use crate::ops::{self, OpsRequest};
use crate::validate;
use crate::workspace::{AuditEntry, Outcome, Workspace, WorkspaceError};

/// How a reply ended, for exit codes and for the assistant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Routed,
    Clarify,
    AwaitingConfirmation,
    Cancelled,
}

/// A successful answer: structured body plus a short human summary.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: Status,
    pub summary: String,
    pub body: Value,
}

impl Reply {
    fn new(status: Status, summary: impl Into<String>, mut body: Value) -> Reply {
        if let Value::Object(map) = &mut body {
            map.insert("status".into(), serde_json::to_value(status).expect("status serialises"));
        }
        Reply { status, summary: summary.into(), body }
    }

    /// A successful result with status `ok`.
    pub fn ok(summary: impl Into<String>, body: Value) -> Reply {
        Reply::new(Status::Ok, summary, body)
    }

    /// 0 success, 1 not executed (cancelled), 3 waiting for a human answer.
    pub fn exit_code(&self) -> i32 {
        match self.status {
            Status::Ok | Status::Routed => 0,
            Status::Cancelled => 1,
            Status::Clarify | Status::AwaitingConfirmation => 3,
        }
    }
}

/// Arguments of `director`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct DirectorRequest {
    /// What you want, in plain words ("deploy to test", "investigate errors in API service"),
    /// or the number of a choice when answering a clarification.
    pub request: String,
    /// Environment, overriding any named in the request.
    #[arg(long)]
    #[serde(default)]
    pub env: Option<String>,
    /// Only classify the request; run nothing.
    #[arg(long)]
    #[serde(default)]
    pub route_only: bool,
    /// The id of a clarification being answered (with `request` set to the choice's number).
    #[arg(long)]
    #[serde(default)]
    pub clarification_id: Option<String>,
}

/// `config` actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ConfigAction {
    /// Write a default devops.json (refuses to overwrite without force).
    Init,
    /// Show the loaded configuration.
    Show,
    /// Validate devops.json and list every problem with its JSON path.
    Validate,
}

/// Arguments of `config`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct ConfigRequest {
    /// init, show or validate.
    #[arg(value_enum, required = true)]
    #[schemars(required)]
    pub action: Option<ConfigAction>,
    /// init: cloud provider (accepted: aws).
    #[arg(long)]
    #[serde(default)]
    pub provider: Option<String>,
    /// init: infrastructure-as-code tool (accepted: terraform).
    #[arg(long)]
    #[serde(default)]
    pub iac: Option<String>,
    /// init: project name (default: the project directory's name).
    #[arg(long)]
    #[serde(default)]
    pub project: Option<String>,
    /// init: subsystem (default: core).
    #[arg(long)]
    #[serde(default)]
    pub subsystem: Option<String>,
    /// init: AWS region (default: us-east-1).
    #[arg(long)]
    #[serde(default)]
    pub region: Option<String>,
    /// init: a local AWS-compatible endpoint such as http://127.0.0.1:5000.
    #[arg(long)]
    #[serde(default)]
    pub endpoint_url: Option<String>,
    /// init: overwrite an existing devops.json.
    #[arg(long)]
    #[serde(default)]
    pub force: bool,
}

/// Arguments of the test-only gated operation (enabled by FABER_CLOUD_SELFTEST=1).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct SelftestRequest {
    /// Environment to "change".
    #[arg(long)]
    pub env: String,
    /// Text appended to selftest/{env}.log once approved.
    #[arg(long)]
    pub payload: String,
    /// Ask for auto-approval (ignored for protected environments).
    #[arg(long)]
    #[serde(default)]
    pub auto_approve: bool,
}

/// What an approved operation runs; stored with the pending operation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum GatedAction {
    /// Appends a line to `selftest/{env}.log`: the gate's end-to-end test target.
    Selftest { env: String, payload: String },
    /// Steps 4–9 of a deploy: apply the saved plan, verify, document.
    Deploy(crate::infra::deploy::DeployAction),
    /// Attach a least-privilege statement with the discover profile.
    PermissionFix(crate::infra::diagnose::FixProposal),
    /// Restart, scale or roll back a service.
    Remediate(crate::ops::remediate::Plan),
}

/// A stored clarification, answered by number.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Clarification {
    id: String,
    request: String,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    answered: bool,
    choices: Vec<Choice>,
}

pub struct App {
    ws: Workspace,
}

impl App {
    pub fn new(ws: Workspace) -> App {
        App { ws }
    }

    pub fn workspace(&self) -> &Workspace {
        &self.ws
    }

    /// Loads devops.json afresh, so edits apply to the next call of a long-running server.
    pub fn config(&self) -> Result<Config, Error> {
        Ok(Config::load(&self.ws)?)
    }

    /// The environment a call targets (default test), which must be configured.
    pub fn resolve_env(&self, env: Option<&str>) -> Result<String, Error> {
        let name = env.unwrap_or(director::DEFAULT_ENV);
        if !config::is_env_name(name) {
            return Err(Error::bad_input(
                "env",
                format!("\"{name}\" is not an environment name"),
                Some("a configured environment such as test or prod".into()),
            ));
        }
        self.config()?.environment(name)?;
        Ok(name.to_string())
    }

    // ----- director -------------------------------------------------------

    pub async fn director(&self, req: &DirectorRequest) -> Result<Reply, Error> {
        validate::text("request", &req.request, 2000)?;
        if let Some(env) = &req.env
            && !config::is_env_name(env)
        {
            return Err(Error::bad_input("env", format!("\"{env}\" is not an environment name"), Some("a configured environment such as test or prod".into())));
        }
        let intent = match &req.clarification_id {
            Some(id) => self.answer_clarification(id, &req.request)?,
            None => {
                let envs = match Config::load(&self.ws) {
                    Ok(c) => c.env_names(),
                    Err(ConfigError::Missing { .. }) => vec!["prod".into(), "test".into()],
                    Err(e) => return Err(e.into()),
                };
                if let Some(env) = req.env.as_deref().filter(|e| !envs.iter().any(|c| c == e)) {
                    return Err(Error::bad_input("env", format!("environment \"{env}\" is not configured"), Some(envs.join(", "))));
                }
                let ctx = director::Context { envs: &envs, explicit_env: req.env.as_deref() };
                match director::route(&req.request, &ctx) {
                    Routing::Routed(intent) => intent,
                    Routing::Clarify(c) => return self.store_clarification(&req.request, c),
                    Routing::UnknownEnv { named, configured } => {
                        return Err(Error::bad_input(
                            "request",
                            format!("names environment \"{named}\", which is not configured in devops.json"),
                            Some(configured.join(", ")),
                        ));
                    }
                }
            }
        };
        if req.route_only {
            let args: Vec<String> = director::describe(&intent)
                .into_iter()
                .filter(|(k, _)| !matches!(*k, "manager" | "operation" | "env"))
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let args = if args.is_empty() { String::new() } else { format!("; {}", args.join(", ")) };
            let summary = format!("Routed to {} {} (env {}{args}).", intent.target.manager(), intent.target.operation(), intent.env);
            return Ok(Reply::new(Status::Routed, summary, json!({"request": req.request, "routed": intent})));
        }
        match self.run_intent(&intent).await {
            Ok(mut reply) => {
                if let Value::Object(map) = &mut reply.body {
                    map.insert("routed".into(), serde_json::to_value(&intent).expect("intents serialise"));
                }
                Ok(reply)
            }
            Err(source) => Err(Error::AfterRouting { routed: Box::new(intent), source: Box::new(source) }),
        }
    }

    async fn run_intent(&self, intent: &Intent) -> Result<Reply, Error> {
        let a = &intent.args;
        match intent.target {
            Target::Infra(op) => {
                let req = InfraRequest {
                    operation: Some(op),
                    env: Some(intent.env.clone()),
                    feature: a.feature.clone(),
                    design: a.design.clone(),
                    error: a.error.clone(),
                    skip_tests: a.skip_tests,
                    skip_preview: a.skip_preview,
                    ..Default::default()
                };
                infra::run(self, &req).await
            }
            Target::Ops(op) => {
                let req = OpsRequest {
                    operation: Some(op),
                    env: Some(intent.env.clone()),
                    service: a.service.clone(),
                    filter: a.filter.clone(),
                    timeframe: a.timeframe.clone(),
                    limit: a.limit,
                    action: a.action,
                    target: a.target,
                    focus: a.focus,
                };
                ops::run(self, &req).await
            }
        }
    }

    fn store_clarification(&self, request: &str, c: director::Clarify) -> Result<Reply, Error> {
        let now = Utc::now();
        let record = Clarification {
            id: uuid::Uuid::new_v4().to_string(),
            request: request.into(),
            created_at: now,
            expires_at: now + chrono::Duration::hours(24),
            answered: false,
            choices: c.choices,
        };
        self.ws.write_json(&self.clarification_path(&record.id)?, &record)?;
        let mut summary = String::from("Your request could mean:\n");
        for choice in &record.choices {
            summary.push_str(&format!("{}. {} ({}, env {})\n", choice.n, choice.label, choice.manager, choice.env));
        }
        let numbers: Vec<String> = record.choices.iter().map(|c| c.n.to_string()).collect();
        summary.push_str(&format!("\nWhich one? ({})", numbers.join("/")));
        let choices: Vec<Value> = record
            .choices
            .iter()
            .map(|c| json!({"n": c.n, "manager": c.manager, "operation": c.operation, "env": c.env, "label": c.label, "args": c.intent.args}))
            .collect();
        Ok(Reply::new(Status::Clarify, summary, json!({"question": c.question, "choices": choices, "clarification_id": record.id, "request": request})))
    }

    fn clarification_path(&self, id: &str) -> Result<std::path::PathBuf, Error> {
        if validate::is_canonical_uuid(id) {
            Ok(self.ws.path(&format!("clarifications/{id}.json"))?)
        } else {
            let shown: String = id.chars().take(80).collect();
            Err(Error::bad_input(
                "clarification_id",
                format!("\"{shown}\" is not a clarification id"),
                Some("the clarification_id returned with the choices".into()),
            ))
        }
    }

    fn answer_clarification(&self, id: &str, answer: &str) -> Result<Intent, Error> {
        let path = self.clarification_path(id)?;
        let _lock = self.ws.lock_file(&path)?;
        let text = std::fs::read_to_string(&path).map_err(|_| Error::bad_input("clarification_id", format!("no clarification {id}"), None))?;
        let mut record: Clarification =
            serde_json::from_str(&text).map_err(|e| WorkspaceError::io(&path, std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
        if record.answered {
            return Err(Error::bad_input("clarification_id", "was already answered; ask the director again", None));
        }
        if Utc::now() > record.expires_at {
            return Err(Error::bad_input("clarification_id", "has expired; ask the director again", None));
        }
        let n = record.choices.len();
        let pick = answer.trim().trim_end_matches('.').parse::<usize>().ok().filter(|k| (1..=n).contains(k));
        let Some(k) = pick else {
            return Err(Error::bad_input("request", format!("\"{}\" is not one of the choices", answer.trim()), Some(format!("a number from 1 to {n}"))));
        };
        record.answered = true;
        let bytes = serde_json::to_vec_pretty(&record).expect("clarifications serialise");
        crate::workspace::write_atomic_unlocked(&path, &bytes)?;
        Ok(record.choices.swap_remove(k - 1).intent)
    }

    // ----- the gate -------------------------------------------------------

    fn gate<'a>(&'a self, config: &Config) -> Gate<'a> {
        Gate::new(&self.ws, config.confirmation_ttl())
    }

    fn env_policy(config: &Config, env: &str) -> Result<EnvPolicy, Error> {
        let settings = config.environment(env)?;
        Ok(EnvPolicy { protected: config.is_protected(env), auto_approve: settings.auto_approve })
    }

    /// Puts a mutating action to the gate under the environment's policy.
    pub fn ask_gate(
        &self,
        config: &Config,
        env: &str,
        auto_approve: bool,
        facts: BannerFacts,
        digest: String,
        action: GatedAction,
    ) -> Result<Requested, Error> {
        let request = GateRequest { facts, digest, action: serde_json::to_value(action).expect("actions serialise") };
        Ok(self.gate(config).request(Self::env_policy(config, env)?, auto_approve, request, Utc::now())?)
    }

    /// Like [`App::ask_gate`], but always waits for a human, even where auto-approval is configured.
    pub fn ask_gate_confirmed(&self, config: &Config, env: &str, facts: BannerFacts, digest: String, action: GatedAction) -> Result<Requested, Error> {
        let policy = EnvPolicy { auto_approve: false, ..Self::env_policy(config, env)? };
        let request = GateRequest { facts, digest, action: serde_json::to_value(action).expect("actions serialise") };
        Ok(self.gate(config).request(policy, false, request, Utc::now())?)
    }

    /// `confirm {operation_id, response}`.
    pub async fn confirm(&self, operation_id: &str, response: &str) -> Result<Reply, Error> {
        if response.chars().count() > 200 {
            return Err(Error::bad_input("response", "is longer than 200 characters", Some("yes, or anything else to cancel".into())));
        }
        let config = self.config()?;
        match self.gate(&config).answer(operation_id, response, Utc::now())? {
            Answered::NextStep(op) => Ok(pending_reply(&op)),
            Answered::Cancelled(op) => Ok(Reply::new(
                Status::Cancelled,
                format!("Cancelled: {} on {} will not run.", op.operation, op.env),
                json!({"operation_id": op.id, "env": op.env, "operation": op.operation}),
            )),
            Answered::Approved(approval, _) => self.execute(approval).await,
        }
    }

    /// Runs an approved action. The approval is consumed here: it cannot run twice.
    async fn execute(&self, approval: Approval) -> Result<Reply, Error> {
        let action: GatedAction = serde_json::from_value(approval.action().clone())
            .map_err(|e| Error::Failed(format!("the approved operation {} cannot be read: {e}", approval.id())))?;
        match action {
            GatedAction::Selftest { env, payload } => self.selftest_execute(approval, &env, &payload),
            GatedAction::Deploy(action) => crate::infra::deploy::execute(self, approval, action).await,
            GatedAction::PermissionFix(fix) => crate::infra::diagnose::apply_fix(self, approval, fix).await,
            GatedAction::Remediate(plan) => crate::ops::remediate::execute(self, approval, plan).await,
        }
    }

    // ----- the test-only gated operation ----------------------------------

    /// Asks the gate to append `payload` to `selftest/{env}.log`.
    pub async fn selftest(&self, req: &SelftestRequest) -> Result<Reply, Error> {
        let env = self.resolve_env(Some(&req.env))?;
        validate::text("payload", &req.payload, 200)?;
        let config = self.config()?;
        let action = serde_json::to_value(GatedAction::Selftest { env: env.clone(), payload: req.payload.clone() }).expect("actions serialise");
        let aws = config.aws();
        let facts = BannerFacts {
            env: env.clone(),
            operation: "gate-selftest".into(),
            summary: format!("Append \"{}\" to selftest/{env}.log.", req.payload),
            region: aws.map(|a| a.region.clone()),
            profile: aws.and_then(|a| a.profile(&env)).map(str::to_string),
            account: aws.and_then(|a| a.account_id.clone()),
            ..Default::default()
        };
        let request = GateRequest { digest: gate::digest_json(&action), facts, action };
        match self.gate(&config).request(Self::env_policy(&config, &env)?, req.auto_approve, request, Utc::now())? {
            Requested::Approved(approval) => self.execute(approval).await,
            Requested::Pending(op) => Ok(pending_reply(&op)),
        }
    }

    fn selftest_execute(&self, approval: Approval, env: &str, payload: &str) -> Result<Reply, Error> {
        approval.check(env, &gate::digest_json(approval.action()), Utc::now())?;
        let path = self.ws.path(&format!("selftest/{env}.log"))?;
        let _lock = self.ws.lock_file(&path)?;
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        text.push_str(payload);
        text.push('\n');
        crate::workspace::write_atomic_unlocked(&path, text.as_bytes())?;
        let lines = text.lines().count();
        let mut entry = AuditEntry::new(approval.operation(), env, Outcome::Executed);
        entry.operation_id = Some(approval.id().into());
        entry.digest = Some(approval.digest().into());
        self.ws.audit(&entry)?;
        Ok(Reply::new(
            Status::Ok,
            format!("Executed gate-selftest on {env}: selftest/{env}.log has {lines} line(s)."),
            json!({"operation_id": approval.id(), "env": env, "operation": approval.operation(), "executed": true, "lines": lines}),
        ))
    }

    // ----- config ---------------------------------------------------------

    pub async fn config_action(&self, req: &ConfigRequest) -> Result<Reply, Error> {
        let action = req.action.ok_or_else(|| Error::bad_input("action", "is required", Some("init, show, validate".into())))?;
        let path = self.ws.root().join(config::CONFIG_FILE);
        match action {
            ConfigAction::Init => {
                let opts = InitOptions {
                    provider: req.provider.clone(),
                    iac: req.iac.clone(),
                    project: req.project.clone(),
                    subsystem: req.subsystem.clone(),
                    organization: None,
                    region: req.region.clone(),
                    endpoint_url: req.endpoint_url.clone(),
                    force: req.force,
                };
                let config = Config::init(&self.ws, &opts)?;
                Ok(Reply::new(
                    Status::Ok,
                    format!("Wrote {} for project {} (environments: {}).", path.display(), config.project.name, config.env_names().join(", ")),
                    json!({"path": path, "config": config}),
                ))
            }
            ConfigAction::Show => {
                let config = self.config()?;
                Ok(Reply::new(
                    Status::Ok,
                    format!("{}: project {}, environments {}.", path.display(), config.project.name, config.env_names().join(", ")),
                    json!({"path": path, "config": config}),
                ))
            }
            ConfigAction::Validate => {
                let config = self.config()?;
                Ok(Reply::new(Status::Ok, format!("{} is valid.", path.display()), json!({"path": path, "valid": true, "environments": config.env_names()})))
            }
        }
    }
}

/// The reply that shows a pending operation's banner and how to answer it.
pub fn pending_reply(op: &PendingOperation) -> Reply {
    let summary = format!(
        "{}\n\nAwaiting confirmation {} of {} for {} on {} (operation_id {}, expires {}).",
        op.banner,
        op.steps_done + 1,
        op.steps_required,
        op.operation,
        op.env,
        op.id,
        op.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    Reply::new(
        Status::AwaitingConfirmation,
        summary,
        json!({
            "operation_id": op.id,
            "env": op.env,
            "operation": op.operation,
            "protected": op.protected,
            "steps_required": op.steps_required,
            "steps_done": op.steps_done,
            "banner": op.banner,
            "digest": op.digest,
            "expires_at": op.expires_at,
            "how_to_answer": "Show the banner to the human. Call confirm {operation_id, response} with their exact answer; only \"yes\" proceeds.",
        }),
    )
}
