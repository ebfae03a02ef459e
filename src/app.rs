//! `App`: the workspace behind every entry point, and the library functions
//! the MCP tools and the CLI both call: director, confirm, config, and the
//! dispatch of approved (gated) actions to their executors.
//!
//! Every function returns a typed report; `vocabulary::render` turns it into
//! the text and the JSON the caller shows.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::{self, Config, ConfigError, InitOptions};
use crate::director::{self, Choice, Routing};
use crate::error::Error;
use crate::gate::{Answered, Approval, BannerFacts, Cancelled, EnvPolicy, Gate, GateRequest, Gated, Pending, Requested, StoredAction};
use crate::infra::{self, InfraReport, InfraRequest};
use crate::ops::{self, OpsReport, OpsRequest};
use crate::vocabulary::{ActionKind, Intent, Report, Status, Target, input};
use crate::workspace::{AuditEntry, Outcome, Workspace};

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

/// How long a clarification can be answered.
const CLARIFICATION_HOURS: i64 = 24;
/// The most unanswered clarifications kept; storing another removes the oldest.
const MAX_PENDING_CLARIFICATIONS: usize = 50;

/// A stored clarification, answered by number.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredClarification {
    id: String,
    request: String,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    answered: bool,
    choices: Vec<Choice>,
}

/// What `director` returns: a routing, a question, or the routed operation's own report.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant, reason = "one value per request")]
pub enum Directed {
    RouteOnly(RouteOnly),
    Clarify(Clarification),
    Unsupported(Unsupported),
    Infra(Routed<InfraReport>),
    Ops(Routed<OpsReport>),
    InvestigatedFirst(InvestigatedFirst),
}

crate::report_enum!(Directed { RouteOnly, Clarify, Unsupported, Infra, Ops, InvestigatedFirst });

/// A request outside what the product does: nothing ran.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Unsupported {
    pub request: String,
    pub unsupported: String,
}

impl Report for Unsupported {
    fn status(&self) -> Status {
        Status::Unsupported
    }
    fn text(&self) -> String {
        self.unsupported.clone()
    }
}

/// "Fix the failing service": the investigation, then the remediations to choose from.
#[derive(Debug, Serialize, JsonSchema)]
pub struct InvestigatedFirst {
    pub routed: Intent,
    pub investigation: OpsReport,
    pub then: Clarification,
}

impl Report for InvestigatedFirst {
    fn status(&self) -> Status {
        Status::Clarify
    }
    fn text(&self) -> String {
        format!(
            "{}\n\nTo fix it, choose a remediation (a protected environment still asks for confirmation):\n{}",
            self.investigation.text(),
            self.then.choices_text()
        )
    }
}

/// `route_only`: where the request would go.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RouteOnly {
    pub request: String,
    pub routed: Intent,
    /// What would be offered after it ("fix the failing service": the remediations).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub then: Vec<ChoiceShown>,
}

impl Report for RouteOnly {
    fn status(&self) -> Status {
        Status::Routed
    }
    fn text(&self) -> String {
        let intent = &self.routed;
        let args: Vec<String> =
            director::describe(intent).into_iter().filter(|(k, _)| !matches!(*k, "manager" | "operation" | "env")).map(|(k, v)| format!("{k}={v}")).collect();
        let args = if args.is_empty() { String::new() } else { format!("; {}", args.join(", ")) };
        format!("Routed to {} {} (env {}{args}).", intent.target.manager(), intent.target.operation(), intent.env)
    }
}

/// A routed operation's report, with where the director sent it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Routed<R> {
    pub routed: Intent,
    #[serde(flatten)]
    pub report: R,
}

impl<R: Report> Report for Routed<R> {
    fn status(&self) -> Status {
        self.report.status()
    }
    fn text(&self) -> String {
        self.report.text()
    }
}

/// A question back to the user, answered with `director {request: "N", clarification_id}`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Clarification {
    pub question: String,
    pub choices: Vec<ChoiceShown>,
    /// Absent in route-only mode, which stores nothing: ask again without it to answer by number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clarification_id: Option<String>,
    pub request: String,
}

/// One numbered choice, as shown.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ChoiceShown {
    pub n: usize,
    pub manager: String,
    pub operation: String,
    pub env: String,
    pub label: String,
    pub args: crate::vocabulary::IntentArgs,
}

impl Report for Clarification {
    fn status(&self) -> Status {
        Status::Clarify
    }
    fn text(&self) -> String {
        format!("Your request could mean:\n{}", self.choices_text())
    }
}

impl Clarification {
    /// The numbered choices and how to answer.
    fn choices_text(&self) -> String {
        let mut out = String::new();
        for c in &self.choices {
            out.push_str(&format!("{}. {} ({}, env {})\n", c.n, c.label, c.manager, c.env));
        }
        let numbers: Vec<String> = self.choices.iter().map(|c| c.n.to_string()).collect();
        out.push_str(&format!("\nWhich one? ({})", numbers.join("/")));
        match &self.clarification_id {
            Some(id) => out.push_str(&format!(
                "\nTo answer, call director {{request: \"N\", clarification_id: \"{id}\"}} with the chosen number (CLI: faber-cloud director N --clarification-id {id})."
            )),
            None => out.push_str("\n(route-only: nothing was stored; ask again without route_only to answer by number.)"),
        }
        out
    }
}

/// What `confirm` returns: the next step, a cancellation, or what the approved action did.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant, reason = "one value per request")]
pub enum Confirmed {
    NextStep(Pending),
    Cancelled(Cancelled),
    Deploy(infra::deploy::DeployReport),
    PermissionFix(infra::diagnose::FixApplied),
    Remediate(ops::remediate::RemediationDone),
    Destroy(infra::destroy::DestroyReport),
    BackendCreated(infra::backend::BackendCreated),
    Selftest(SelftestDone),
}

crate::report_enum!(Confirmed { NextStep, Cancelled, Deploy, PermissionFix, Remediate, Destroy, BackendCreated, Selftest });

/// What `config` returns.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant, reason = "one value per request")]
pub enum ConfigReport {
    /// init and show: the configuration.
    Shown(ConfigShown),
    /// validate: it loaded and passed every check (problems are a tool error).
    Valid(ConfigValid),
}

crate::report_enum!(ConfigReport { Shown, Valid });

#[derive(Debug, Serialize, JsonSchema)]
pub struct ConfigShown {
    pub path: std::path::PathBuf,
    pub config: Config,
    #[serde(skip)]
    written: bool,
}

impl Report for ConfigShown {
    fn text(&self) -> String {
        let envs = self.config.env_names().join(", ");
        if self.written {
            format!("Wrote {} for project {} (environments: {envs}).", self.path.display(), self.config.project.name)
        } else {
            format!("{}: project {}, environments {envs}.", self.path.display(), self.config.project.name)
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ConfigValid {
    pub path: std::path::PathBuf,
    pub valid: bool,
    pub environments: Vec<String>,
    /// What is not wrong in the file but will stop an operation (a state bucket that does not exist yet).
    pub warnings: Vec<String>,
}

impl Report for ConfigValid {
    fn text(&self) -> String {
        let mut out = format!("{} is valid.", self.path.display());
        for w in &self.warnings {
            out.push_str(&format!("\nWarning: {w}"));
        }
        out
    }
}

/// What the test-only gated operation returns.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Selftested {
    Pending(Pending),
    Done(SelftestDone),
}

crate::report_enum!(Selftested { Pending, Done });

/// The test-only action: append a line to `selftest/{env}.log`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SelftestAction {
    pub env: String,
    pub payload: String,
}

impl Gated for SelftestAction {
    const KIND: ActionKind = ActionKind::Selftest;
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SelftestDone {
    pub operation_id: String,
    pub env: String,
    pub operation: String,
    pub executed: bool,
    pub lines: usize,
}

impl Report for SelftestDone {
    fn text(&self) -> String {
        format!("Executed gate-selftest on {}: selftest/{}.log has {} line(s).", self.env, self.env, self.lines)
    }
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

    // ----- director -------------------------------------------------------

    pub async fn director(&self, req: &DirectorRequest) -> Result<Directed, Error> {
        input::text("request", &req.request, 2000)?;
        if let Some(env) = &req.env {
            input::EnvName::parse("env", env)?;
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
                    Routing::Clarify(c) => return Ok(Directed::Clarify(self.clarification(&req.request, c, !req.route_only)?)),
                    Routing::Unsupported { reason } => return Ok(Directed::Unsupported(Unsupported { request: req.request.clone(), unsupported: reason })),
                    Routing::InvestigateFirst { investigate, remedies } => {
                        if req.route_only {
                            let then = self.clarification(&req.request, remedies, false)?.choices;
                            return Ok(Directed::RouteOnly(RouteOnly { request: req.request.clone(), routed: investigate, then }));
                        }
                        let investigation = ops::run(&self.ws, &ops_request(&investigate))
                            .await
                            .map_err(|source| Error::AfterRouting { routed: Box::new(investigate.clone()), source: Box::new(source) })?;
                        let then = self.clarification(&req.request, remedies, true)?;
                        return Ok(Directed::InvestigatedFirst(InvestigatedFirst { routed: investigate, investigation, then }));
                    }
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
            return Ok(Directed::RouteOnly(RouteOnly { request: req.request.clone(), routed: intent, then: Vec::new() }));
        }
        let ran = match intent.target {
            Target::Infra(_) => infra::run(&self.ws, &infra_request(&intent)).await.map(|report| Directed::Infra(Routed { routed: intent.clone(), report })),
            Target::Ops(_) => ops::run(&self.ws, &ops_request(&intent)).await.map(|report| Directed::Ops(Routed { routed: intent.clone(), report })),
        };
        ran.map_err(|source| Error::AfterRouting { routed: Box::new(intent), source: Box::new(source) })
    }

    /// The question as shown; `store` keeps it so it can be answered by
    /// number (route-only stores nothing). Storing first removes the
    /// entries that can no longer be answered.
    fn clarification(&self, request: &str, c: director::Clarify, store: bool) -> Result<Clarification, Error> {
        let now = Utc::now();
        let record = StoredClarification {
            id: uuid::Uuid::new_v4().to_string(),
            request: request.into(),
            created_at: now,
            expires_at: now + chrono::Duration::hours(CLARIFICATION_HOURS),
            answered: false,
            choices: c.choices,
        };
        if store {
            self.prune_clarifications(now);
            self.ws.write_json(&self.clarification_path(&record.id)?, &record)?;
        }
        let choices = record
            .choices
            .iter()
            .map(|c| ChoiceShown {
                n: c.n,
                manager: c.manager.clone(),
                operation: c.operation.clone(),
                env: c.env.clone(),
                label: c.label.clone(),
                args: c.intent.args.clone(),
            })
            .collect();
        Ok(Clarification { question: c.question, choices, clarification_id: store.then_some(record.id), request: request.into() })
    }

    /// Removes stored clarifications that are answered, expired or unreadable,
    /// then the oldest beyond [`MAX_PENDING_CLARIFICATIONS`]. Best effort: a
    /// file another process removes first is simply gone.
    fn prune_clarifications(&self, now: DateTime<Utc>) {
        let Ok(dir) = self.ws.path("clarifications") else { return };
        let Ok(entries) = std::fs::read_dir(&dir) else { return };
        let mut pending: Vec<(DateTime<Utc>, std::path::PathBuf)> = Vec::new();
        for path in entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "json")) {
            let record = std::fs::read(&path).ok().and_then(|b| serde_json::from_slice::<StoredClarification>(&b).ok());
            match record {
                Some(r) if !r.answered && r.expires_at >= now => pending.push((r.created_at, path)),
                _ => {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        if pending.len() >= MAX_PENDING_CLARIFICATIONS {
            pending.sort();
            for (_, path) in &pending[..=pending.len() - MAX_PENDING_CLARIFICATIONS] {
                let _ = std::fs::remove_file(path);
            }
        }
    }

    fn clarification_path(&self, id: &str) -> Result<std::path::PathBuf, Error> {
        if input::is_canonical_uuid(id) {
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
        let intent = self.ws.update_json(&path, |slot: &mut Option<StoredClarification>| {
            let record = slot.as_mut().ok_or_else(|| {
                Error::bad_input(
                    "clarification_id",
                    format!("no clarification {id} is waiting: it was answered, has expired or never existed; ask the director again"),
                    None,
                )
            })?;
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
            Ok(record.choices[k - 1].intent.clone())
        })?;
        // Answered: it can never be answered again, so it is not kept.
        let _ = std::fs::remove_file(&path);
        Ok(intent)
    }

    // ----- the gate -------------------------------------------------------

    /// `confirm {operation_id, response}`.
    pub async fn confirm(&self, operation_id: &str, response: &str) -> Result<Confirmed, Error> {
        if response.chars().count() > 200 {
            return Err(Error::bad_input("response", "is longer than 200 characters", Some("yes, or anything else to cancel".into())));
        }
        let config = self.config()?;
        let policy_now = |env: &str| EnvPolicy::of(&config, env).ok();
        match Gate::for_config(&self.ws, &config).answer(operation_id, response, policy_now, Utc::now())? {
            Answered::NextStep(op) => Ok(Confirmed::NextStep(Pending::from(&op))),
            Answered::Cancelled(op) => Ok(Confirmed::Cancelled(Cancelled::from(&op))),
            Answered::Approved(approval, _) => self.execute(approval).await,
        }
    }

    /// Runs an approved action with the executor of its kind. The approval is
    /// consumed here: it cannot run twice. Its end is always audited: `failed`
    /// with the reason when it fails (before or after it started changing
    /// things), `cancelled` when the call is dropped before it finished.
    async fn execute(&self, approval: Approval) -> Result<Confirmed, Error> {
        let mut watch = Executing {
            ws: &self.ws,
            operation: approval.operation().to_string(),
            env: approval.env().to_string(),
            id: approval.id().to_string(),
            done: false,
        };
        let result = self.run_approved(approval).await;
        watch.finish(&result);
        result
    }

    async fn run_approved(&self, approval: Approval) -> Result<Confirmed, Error> {
        let ws = &self.ws;
        Ok(match approval.kind() {
            ActionKind::Selftest => {
                let action = approval.action::<SelftestAction>()?;
                Confirmed::Selftest(self.selftest_execute(approval, action)?)
            }
            ActionKind::Deploy => {
                let action = approval.action()?;
                Confirmed::Deploy(infra::deploy::execute(ws, approval, action).await?)
            }
            ActionKind::PermissionFix => {
                let fix = approval.action()?;
                Confirmed::PermissionFix(infra::diagnose::apply_fix(ws, approval, fix).await?)
            }
            ActionKind::Remediate => {
                let plan = approval.action()?;
                Confirmed::Remediate(ops::remediate::execute(ws, approval, plan).await?)
            }
            ActionKind::BootstrapBackend => {
                let action = approval.action()?;
                Confirmed::BackendCreated(infra::backend::execute(ws, approval, action).await?)
            }
            ActionKind::Destroy => {
                let action = approval.action()?;
                Confirmed::Destroy(infra::destroy::execute(ws, approval, action).await?)
            }
        })
    }

    // ----- the test-only gated operation ----------------------------------

    /// Asks the gate to append `payload` to `selftest/{env}.log`.
    pub async fn selftest(&self, req: &SelftestRequest) -> Result<Selftested, Error> {
        let config = self.config()?;
        let env = config.target_env(Some(&req.env))?;
        input::text("payload", &req.payload, 200)?;
        let action = StoredAction::of(&SelftestAction { env: env.to_string(), payload: req.payload.clone() });
        let aws = config.aws();
        let facts = BannerFacts {
            env: env.to_string(),
            operation: "gate-selftest".into(),
            summary: format!("Append \"{}\" to selftest/{env}.log.", req.payload),
            region: aws.map(|a| a.region.clone()),
            profile: aws.and_then(|a| a.profile(&env)).map(str::to_string),
            account: aws.and_then(|a| a.account_id.clone()),
            ..Default::default()
        };
        let request = GateRequest { digest: action.digest(), facts, action };
        match Gate::for_config(&self.ws, &config).request(EnvPolicy::of(&config, &env)?, req.auto_approve, request, Utc::now())? {
            Requested::Approved(approval) => {
                let action = approval.action::<SelftestAction>()?;
                Ok(Selftested::Done(self.selftest_execute(approval, action)?))
            }
            Requested::Pending(op) => Ok(Selftested::Pending(Pending::from(&op))),
        }
    }

    fn selftest_execute(&self, approval: Approval, action: SelftestAction) -> Result<SelftestDone, Error> {
        let env = &action.env;
        approval.check(env, &approval.stored().digest(), Utc::now())?;
        let path = self.ws.path(&format!("selftest/{env}.log"))?;
        let _lock = self.ws.lock_file(&path)?;
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        text.push_str(&action.payload);
        text.push('\n');
        crate::workspace::write_atomic_unlocked(&path, text.as_bytes())?;
        let lines = text.lines().count();
        let mut entry = AuditEntry::new(approval.operation(), env, Outcome::Executed);
        entry.operation_id = Some(approval.id().into());
        entry.digest = Some(approval.digest().into());
        self.ws.audit(&entry)?;
        Ok(SelftestDone { operation_id: approval.id().into(), env: env.clone(), operation: approval.operation().into(), executed: true, lines })
    }

    // ----- config ---------------------------------------------------------

    pub async fn config_action(&self, req: &ConfigRequest) -> Result<ConfigReport, Error> {
        let action = req.action.ok_or_else(|| Error::bad_input("action", "is required", Some("init, show, validate".into())))?;
        let path = self.ws.root().join(config::CONFIG_FILE);
        Ok(match action {
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
                ConfigReport::Shown(ConfigShown { path, config: Config::init(&self.ws, &opts)?, written: true })
            }
            ConfigAction::Show => ConfigReport::Shown(ConfigShown { path, config: self.config()?, written: false }),
            ConfigAction::Validate => {
                let config = self.config()?;
                let warnings = infra::backend::warnings(&config).await;
                ConfigReport::Valid(ConfigValid { path, valid: true, environments: config.env_names(), warnings })
            }
        })
    }
}

impl App {
    /// Ships the audit-trail lines not shipped yet to `audit.cloudwatch_log_group`, when it is configured: after
    /// every tool call and CLI command. Never fails the call and never touches the local trail; what could not be
    /// shipped is tried again with the next call (a line may then arrive twice, never not at all).
    pub async fn ship_audit(&self) {
        let Ok(config) = self.config() else { return };
        let Some(group) = config.audit.as_ref().and_then(|a| a.cloudwatch_log_group.clone()) else { return };
        match tokio::time::timeout(std::time::Duration::from_secs(20), ship_audit(&self.ws, &config, &group)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::debug!(lines = n, group, "audit trail shipped"),
            Ok(Err(e)) => tracing::warn!("the audit trail was not shipped to {group} (kept locally; the next call tries again): {e}"),
            Err(_) => tracing::warn!("shipping the audit trail to {group} took over 20 s (kept locally; the next call tries again)"),
        }
    }
}

/// How far the audit trail has been shipped, and where to.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Shipped {
    group: String,
    /// Bytes of `audit-trail.jsonl` already shipped (whole lines).
    offset: u64,
}

/// The lines after the shipped offset, each environment's with that environment's credentials (a line of no
/// configured environment with `discover`'s). Returns how many were shipped.
async fn ship_audit(ws: &Workspace, config: &Config, group: &str) -> Result<usize, Error> {
    // One shipper at a time; a busy one ships this call's lines with its own.
    let Ok(_lock) = ws.try_lock("audit-ship", "shipping the audit trail")? else { return Ok(0) };
    let Ok(bytes) = std::fs::read(ws.root().join(crate::workspace::audit::FILE)) else { return Ok(0) };
    let shipped_path = ws.path("audit-shipped.json")?;
    let shipped: Shipped = std::fs::read_to_string(&shipped_path).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
    let end = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let start = if shipped.group == group { (shipped.offset as usize).min(end) } else { 0 };
    if start >= end {
        return Ok(0);
    }
    let mut by_env: std::collections::BTreeMap<String, Vec<(i64, String)>> = std::collections::BTreeMap::new();
    for line in String::from_utf8_lossy(&bytes[start..end]).lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
        let env = v["env"].as_str().filter(|e| config.environments.contains_key(*e)).unwrap_or("discover").to_string();
        let at =
            v["timestamp"].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map_or_else(|| Utc::now().timestamp_millis(), |t| t.timestamp_millis());
        by_env.entry(env).or_default().push((at, line.to_string()));
    }
    let host = whoami::fallible::hostname().unwrap_or_else(|_| "unknown-host".into());
    let stream: String = format!("{}@{host}", crate::workspace::audit::os_user()).chars().map(|c| if c == ':' || c == '*' { '_' } else { c }).collect();
    let mut n = 0;
    for (env, lines) in &by_env {
        let cloud = crate::cloud::Cloud::connect(config, env).await;
        crate::cloud::logs::put_lines(&cloud, group, &stream, lines).await?;
        n += lines.len();
    }
    ws.write_json(&shipped_path, &Shipped { group: group.to_string(), offset: end as u64 })?;
    Ok(n)
}

/// The infra-manager call a routed intent makes.
fn infra_request(intent: &Intent) -> InfraRequest {
    let a = &intent.args;
    InfraRequest {
        operation: match intent.target {
            Target::Infra(op) => Some(op),
            Target::Ops(_) => None,
        },
        env: Some(intent.env.clone()),
        feature: a.feature.clone(),
        design: a.design.clone(),
        error: a.error.clone(),
        skip_tests: a.skip_tests,
        skip_preview: a.skip_preview,
        region: a.region.clone(),
        ..Default::default()
    }
}

/// The ops-manager call a routed intent makes.
fn ops_request(intent: &Intent) -> OpsRequest {
    let a = &intent.args;
    OpsRequest {
        operation: match intent.target {
            Target::Ops(op) => Some(op),
            Target::Infra(_) => None,
        },
        env: Some(intent.env.clone()),
        service: a.service.clone(),
        filter: a.filter.clone(),
        timeframe: a.timeframe.clone(),
        limit: a.limit,
        action: a.action,
        target: a.target,
        focus: a.focus,
        region: a.region.clone(),
    }
}

/// Audits how an approved action ended when its executor did not say it.
struct Executing<'a> {
    ws: &'a Workspace,
    operation: String,
    env: String,
    id: String,
    done: bool,
}

impl Executing<'_> {
    fn record(&self, outcome: Outcome, detail: String) {
        let mut entry = AuditEntry::new(&self.operation, &self.env, outcome);
        entry.operation_id = Some(self.id.clone());
        entry.detail = Some(crate::redact::redact(&detail));
        if let Err(e) = self.ws.audit(&entry) {
            tracing::error!(error = %e, "the audit trail could not record the end of an approved action");
        }
    }

    fn finish(&mut self, result: &Result<Confirmed, Error>) {
        self.done = true;
        // Executors audit their own end once they have started (a failed apply, a remediation's
        // outcome); this covers what fails before, so no action ends audited twice.
        if let Err(e) = result
            && !self.ws.audited_outcomes(&self.id).into_iter().any(Outcome::is_end)
        {
            self.record(Outcome::Failed, format!("the approved action did not complete: {e}"));
        }
    }
}

impl Drop for Executing<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.record(Outcome::Cancelled, "the approved action was interrupted before it finished (the call was cancelled or the client went away)".into());
        }
    }
}
