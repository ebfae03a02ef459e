//! `devops.json`: the schema, loading with JSON-path errors, semantic
//! validation, `config init`, and naming helpers built on [`pattern`].
//!
//! This module reads and writes only the configuration file; it knows nothing
//! of AWS or Terraform beyond the names and patterns they are given.

pub mod pattern;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::vocabulary::{BadInput, DEFAULT_ENV, EnvName};
use crate::workspace::{Workspace, WorkspaceError};
pub use pattern::{PatternError, PatternValues};

/// The file name under the workspace root.
pub const CONFIG_FILE: &str = "devops.json";

/// The whole configuration, as written in `devops.json`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub version: String,
    pub project: Project,
    pub handlers: Handlers,
    pub resource_naming: ResourceNaming,
    pub environments: BTreeMap<String, Environment>,
    #[serde(default, skip_serializing_if = "Tagging::is_empty")]
    pub tagging: Tagging,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety: Option<Safety>,
    /// Security scan settings: suppressions that hold for the whole project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan: Option<ScanOptions>,
    /// Where the audit trail is shared beside its local file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditSettings>,
}

/// The audit trail shared by a team.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditSettings {
    /// A CloudWatch Logs group (it must exist) that receives every audit-trail line too, one stream per user and
    /// machine, written with each environment's own credentials. The local file stays the record: a line that
    /// cannot be shipped is shipped with the next call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloudwatch_log_group: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Project {
    pub name: String,
    pub subsystem: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Handlers {
    pub hosting: Hosting,
    pub iac: Iac,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Hosting {
    pub active: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<Aws>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Aws {
    pub region: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Points the SDK and the generated Terraform provider at a local
    /// AWS-compatible server (moto in the sandbox and the tests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
    /// Profile names keyed by `discover` and by environment name. The older
    /// spellings `discover_deploy`, `test_deploy`, `prod_deploy` are accepted
    /// on load and normalised by [`Aws::profile`].
    pub profiles: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Iac {
    pub active: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terraform: Option<Terraform>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Terraform {
    pub directory: String,
    pub var_file_pattern: String,
    pub backend: Backend,
    /// `terraform` (default) or `tofu`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Backend {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceNaming {
    pub pattern: String,
    pub separator: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    #[serde(default)]
    pub auto_approve: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_threshold: Option<f64>,
    #[serde(default)]
    pub require_confirmation: bool,
    /// The regions this environment deploys to, the first being its primary (where global resources such as IAM
    /// roles are created); default: `handlers.hosting.aws.regions`, else `handlers.hosting.aws.region`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
}

/// Tags every resource must carry. Written either as an object of
/// name → value, or as a list of names whose values come from elsewhere.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tagging {
    #[serde(default)]
    pub required: RequiredTags,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum RequiredTags {
    Values(BTreeMap<String, String>),
    Names(Vec<String>),
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Safety {
    /// How long a pending operation waits for its confirmation (default 15).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation_ttl_minutes: Option<u32>,
    /// How long terraform waits for a state lock another run holds before it gives up (default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_lock_wait_seconds: Option<u32>,
}

impl Default for RequiredTags {
    fn default() -> Self {
        RequiredTags::Values(BTreeMap::new())
    }
}

impl Tagging {
    fn is_empty(&self) -> bool {
        self.required.names().is_empty()
    }
}

impl RequiredTags {
    pub fn names(&self) -> Vec<&str> {
        match self {
            RequiredTags::Values(map) => map.keys().map(String::as_str).collect(),
            RequiredTags::Names(names) => names.iter().map(String::as_str).collect(),
        }
    }
}

/// One problem in a configuration, located by its JSON path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("no configuration at {path}; create one with `faber-cloud config init --provider aws --iac terraform` (MCP: config {{action: \"init\"}})")]
    Missing { path: PathBuf },
    #[error("{path} is not valid JSON for devops.json at {json_path} (line {line}, column {column}): {message}")]
    Parse { path: PathBuf, json_path: String, line: usize, column: usize, message: String },
    #[error("{path} has {} problem(s): {}", problems.len(), problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid { path: PathBuf, problems: Vec<Problem> },
    #[error("{path} already exists; pass force to overwrite it")]
    Exists { path: PathBuf },
    #[error("{field}: \"{value}\" is not supported (accepted: {accepted})")]
    Unsupported { field: &'static str, value: String, accepted: &'static str },
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
}

/// Options of `config init`; everything not given takes the user guide's default.
#[derive(Debug, Clone, Default)]
pub struct InitOptions {
    pub provider: Option<String>,
    pub iac: Option<String>,
    pub project: Option<String>,
    pub subsystem: Option<String>,
    pub organization: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub force: bool,
}

/// The workspace's `.gitignore`, written by `config init` when there is none.
pub const GITIGNORE: &str = "# Written by faber-cloud config init: machine-local files, not for git.
plans/
locks/
pending/
clarifications/
selftest/
.*.lock
.tmp-*
*.unreadable-*
";

impl Config {
    /// Reads and validates `devops.json` from the workspace.
    pub fn load(ws: &Workspace) -> Result<Config, ConfigError> {
        let path = ws.root().join(CONFIG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ConfigError::Missing { path }),
            Err(e) => return Err(WorkspaceError::io(&path, e).into()),
        };
        Self::from_json(&text, &path)
    }

    /// Parses and validates configuration text; `path` is only for messages.
    pub fn from_json(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let config: Config = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let json_path = match e.path().to_string() {
                p if p == "." => "(top level)".to_string(),
                p => p,
            };
            let inner = e.into_inner();
            ConfigError::Parse { path: path.to_path_buf(), json_path, line: inner.line(), column: inner.column(), message: strip_position(&inner.to_string()) }
        })?;
        let problems = config.problems();
        if problems.is_empty() { Ok(config) } else { Err(ConfigError::Invalid { path: path.to_path_buf(), problems }) }
    }

    /// Writes the default configuration into the workspace.
    pub fn init(ws: &Workspace, opts: &InitOptions) -> Result<Config, ConfigError> {
        let provider = opts.provider.as_deref().unwrap_or("aws");
        if provider != "aws" {
            return Err(ConfigError::Unsupported { field: "provider", value: provider.into(), accepted: "aws" });
        }
        let iac = opts.iac.as_deref().unwrap_or("terraform");
        if iac != "terraform" {
            return Err(ConfigError::Unsupported { field: "iac", value: iac.into(), accepted: "terraform" });
        }
        let path = ws.root().join(CONFIG_FILE);
        if path.exists() && !opts.force {
            return Err(ConfigError::Exists { path });
        }
        let project = opts.project.clone().unwrap_or_else(|| project_name_from_dir(ws.project_dir()));
        let config = Config::default_for(&project, opts);
        let problems = config.problems();
        if !problems.is_empty() {
            return Err(ConfigError::Invalid { path, problems });
        }
        let mut text = serde_json::to_string_pretty(&config).expect("config serialises");
        text.push('\n');
        ws.write_atomic(&path, text.as_bytes())?;
        // What is machine-local stays out of git: saved plans, locks, pending answers, temp files.
        let ignore = ws.root().join(".gitignore");
        if !ignore.exists() {
            ws.write_atomic(&ignore, GITIGNORE.as_bytes())?;
        }
        Ok(config)
    }

    fn default_for(project: &str, opts: &InitOptions) -> Config {
        let profile = |suffix: &str| format!("{project}-{suffix}-deploy");
        Config {
            version: "1.0".into(),
            project: Project {
                name: project.into(),
                subsystem: opts.subsystem.clone().unwrap_or_else(|| "core".into()),
                organization: Some(opts.organization.clone().unwrap_or_else(|| "my-org".into())),
            },
            handlers: Handlers {
                hosting: Hosting {
                    active: "aws".into(),
                    aws: Some(Aws {
                        region: opts.region.clone().unwrap_or_else(|| "us-east-1".into()),
                        regions: Vec::new(),
                        account_id: None,
                        endpoint_url: opts.endpoint_url.clone(),
                        profiles: [("discover".to_string(), profile("discover")), ("test".to_string(), profile("test")), ("prod".to_string(), profile("prod"))]
                            .into(),
                    }),
                },
                iac: Iac {
                    active: "terraform".into(),
                    terraform: Some(Terraform {
                        directory: "./infrastructure/terraform".into(),
                        var_file_pattern: "{environment}.tfvars".into(),
                        backend: Backend {
                            kind: "s3".into(),
                            bucket: Some("{project}-terraform-state".into()),
                            key: Some("{subsystem}/{environment}/terraform.tfstate".into()),
                            region: None,
                        },
                        binary: None,
                    }),
                },
            },
            resource_naming: ResourceNaming { pattern: "{project}-{subsystem}-{environment}-{resource}".into(), separator: "-".into() },
            environments: [
                ("test".to_string(), Environment { auto_approve: false, cost_threshold: Some(100.0), require_confirmation: false, regions: Vec::new() }),
                ("prod".to_string(), Environment { auto_approve: false, cost_threshold: Some(500.0), require_confirmation: true, regions: Vec::new() }),
            ]
            .into(),
            tagging: Tagging::default(),
            safety: None,
            scan: None,
            audit: None,
        }
    }

    /// Every semantic problem, each with its JSON path. Empty means valid.
    pub fn problems(&self) -> Vec<Problem> {
        let mut p = Problems::default();
        if !self.version.starts_with("1.") && self.version != "1" {
            p.add("version", format!("\"{}\" is not supported (accepted: \"1.0\")", self.version));
        }
        p.name("project.name", &self.project.name);
        p.name("project.subsystem", &self.project.subsystem);
        if let Some(org) = &self.project.organization
            && (!org.starts_with(|c: char| c.is_ascii_alphanumeric()) || !org.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)))
        {
            p.add("project.organization", format!("\"{}\" must be letters, digits, '-', '_' or '.', starting with a letter or digit", org.escape_default()));
        }
        self.check_hosting(&mut p);
        self.check_iac(&mut p);
        match pattern::placeholders(&self.resource_naming.pattern) {
            Ok(names) if !names.contains(&"resource") => p.add("resource_naming.pattern", "must contain {resource}, or every resource gets the same name"),
            Ok(_) => {}
            Err(e) => p.add("resource_naming.pattern", e.to_string()),
        }
        if !matches!(self.resource_naming.separator.as_str(), "-" | "_" | "") {
            p.add("resource_naming.separator", format!("\"{}\" is not accepted (accepted: \"-\", \"_\", \"\")", self.resource_naming.separator));
        }
        if self.environments.is_empty() {
            p.add("environments", "at least one environment is required (e.g. \"test\")");
        }
        for (name, env) in &self.environments {
            if !is_env_name(name) {
                p.add(format!("environments.{name}"), "environment names are lowercase letters, digits and '-', starting with a letter, at most 32 characters");
            }
            if let Some(t) = env.cost_threshold
                && (!t.is_finite() || t < 0.0)
            {
                p.add(format!("environments.{name}.cost_threshold"), "must be a number of dollars per month, 0 or more");
            }
        }
        if let Some(ttl) = self.safety.as_ref().and_then(|s| s.confirmation_ttl_minutes)
            && (ttl == 0 || ttl > 24 * 60)
        {
            p.add("safety.confirmation_ttl_minutes", "must be between 1 and 1440");
        }
        if let Some(group) = self.audit.as_ref().and_then(|a| a.cloudwatch_log_group.as_deref())
            && (group.is_empty() || group.len() > 512 || !group.chars().all(|c| c.is_ascii_alphanumeric() || "_-/.#".contains(c)))
        {
            p.add("audit.cloudwatch_log_group", "must be a CloudWatch Logs group name: 1–512 of letters, digits and _ - / . #");
        }
        if self.safety.as_ref().and_then(|s| s.state_lock_wait_seconds).is_some_and(|w| w > 3600) {
            p.add("safety.state_lock_wait_seconds", "must be between 0 and 3600");
        }
        for (i, s) in self.scan.iter().flat_map(|s| s.suppress.iter()).enumerate() {
            if s.reason.trim().is_empty() {
                p.add(format!("scan.suppress[{i}].reason"), "must say why the finding is acceptable");
            }
        }
        for name in self.tagging.required.names() {
            if name.is_empty() || name.len() > 128 {
                p.add("tagging.required", format!("tag name \"{name}\" must be 1 to 128 characters"));
            } else if !name.chars().all(|c| c.is_alphanumeric() || " _.:/=+-@".contains(c)) {
                p.add("tagging.required", format!("tag name \"{}\" may hold letters, digits, spaces and _ . : / = + - @ only", name.escape_default()));
            }
        }
        p.0
    }

    fn check_hosting(&self, p: &mut Problems) {
        let hosting = &self.handlers.hosting;
        if hosting.active != "aws" {
            p.add("handlers.hosting.active", format!("\"{}\" is not supported (accepted: \"aws\")", hosting.active));
        }
        let Some(aws) = &hosting.aws else {
            p.add("handlers.hosting.aws", "is required when handlers.hosting.active is \"aws\"");
            return;
        };
        if !is_region(&aws.region) {
            p.add("handlers.hosting.aws.region", format!("\"{}\" is not an AWS region name like \"us-east-1\"", aws.region));
        }
        for (i, r) in aws.regions.iter().enumerate() {
            if !is_region(r) {
                p.add(format!("handlers.hosting.aws.regions[{i}]"), format!("\"{r}\" is not an AWS region name like \"eu-west-1\""));
            }
        }
        for (name, env) in &self.environments {
            for (i, r) in env.regions.iter().enumerate() {
                if !is_region(r) {
                    p.add(format!("environments.{name}.regions[{i}]"), format!("\"{r}\" is not an AWS region name like \"eu-west-1\""));
                }
            }
        }
        if let Some(id) = &aws.account_id
            && (id.len() != 12 || !id.chars().all(|c| c.is_ascii_digit()))
        {
            p.add("handlers.hosting.aws.account_id", "must be the 12-digit AWS account id, as a string");
        }
        if let Some(url) = &aws.endpoint_url
            && !crate::vocabulary::input::is_http_url(url)
        {
            p.add(
                "handlers.hosting.aws.endpoint_url",
                format!(
                    "\"{}\" must be an http:// or https:// URL of a host, a port and a plain path, such as \"http://127.0.0.1:5000\"",
                    url.escape_default()
                ),
            );
        }
        let mut seen: BTreeMap<String, &str> = BTreeMap::new();
        for (key, profile) in &aws.profiles {
            let path = format!("handlers.hosting.aws.profiles.{key}");
            let role = normalise_profile_key(key);
            if let Some(previous) = seen.insert(role.to_string(), key) {
                p.add(path.clone(), format!("names the same profile role as \"{previous}\"; keep one spelling"));
            }
            if role != "discover" && !self.environments.contains_key(role) {
                p.add(path.clone(), format!("\"{key}\" is neither \"discover\" nor a configured environment (configured: {})", self.env_names().join(", ")));
            }
            if profile.is_empty() || !profile.chars().all(|c| c.is_ascii_alphanumeric() || "-_.+=@,".contains(c)) {
                p.add(path, format!("\"{profile}\" is not a valid AWS profile name"));
            }
        }
        if !seen.contains_key("discover") {
            p.add("handlers.hosting.aws.profiles.discover", "is required: the discover profile is the only one used for IAM permission fixes");
        }
        for env in self.environments.keys() {
            if !seen.contains_key(env.as_str()) {
                p.add(format!("handlers.hosting.aws.profiles.{env}"), format!("environment \"{env}\" needs its own deploy profile"));
            }
        }
        if let Some(discover) = aws.profile("discover") {
            for env in self.environments.keys() {
                if aws.profile(env) == Some(discover) {
                    p.add(format!("handlers.hosting.aws.profiles.{env}"), "must differ from the discover profile: deploys never use the IAM-capable profile");
                }
            }
        }
    }

    fn check_iac(&self, p: &mut Problems) {
        let iac = &self.handlers.iac;
        if iac.active != "terraform" {
            p.add("handlers.iac.active", format!("\"{}\" is not supported (accepted: \"terraform\")", iac.active));
        }
        let Some(tf) = &iac.terraform else {
            p.add("handlers.iac.terraform", "is required when handlers.iac.active is \"terraform\"");
            return;
        };
        if !is_relative_inside(&tf.directory) {
            p.add("handlers.iac.terraform.directory", format!("\"{}\" must be a relative path inside the project (no \"..\")", tf.directory));
        }
        for (field, value) in
            [("var_file_pattern", Some(&tf.var_file_pattern)), ("backend.bucket", tf.backend.bucket.as_ref()), ("backend.key", tf.backend.key.as_ref())]
        {
            if let Some(value) = value
                && let Err(e) = pattern::placeholders(value)
            {
                p.add(format!("handlers.iac.terraform.{field}"), e.to_string());
            }
        }
        let var_file = tf.var_file_pattern.replace(['{', '}'], "");
        if !crate::vocabulary::input::is_safe_file_name(&var_file) {
            p.add(
                "handlers.iac.terraform.var_file_pattern",
                format!(
                    "\"{}\" must be a file name in the Terraform folder (letters, digits, '-', '_', '.' and placeholders; no '/' or leading '.')",
                    tf.var_file_pattern.escape_default()
                ),
            );
        }
        if !tf.var_file_pattern.contains("{environment}") {
            p.add("handlers.iac.terraform.var_file_pattern", "must contain {environment}: each environment has its own var file");
        }
        match tf.backend.kind.as_str() {
            "s3" => {
                if tf.backend.bucket.is_none() {
                    p.add("handlers.iac.terraform.backend.bucket", "is required for an s3 backend");
                }
                if tf.backend.key.is_none() {
                    p.add("handlers.iac.terraform.backend.key", "is required for an s3 backend");
                }
            }
            "local" => {}
            other => p.add("handlers.iac.terraform.backend.type", format!("\"{other}\" is not supported (accepted: \"s3\", \"local\")")),
        }
        if let Some(bin) = &tf.binary
            && !matches!(bin.as_str(), "terraform" | "tofu")
        {
            p.add("handlers.iac.terraform.binary", format!("\"{bin}\" is not supported (accepted: \"terraform\", \"tofu\")"));
        }
    }

    /// Configured environment names, sorted.
    pub fn env_names(&self) -> Vec<String> {
        self.environments.keys().cloned().collect()
    }

    /// The environment's settings, or an error listing the configured ones.
    /// The environment a call targets (default test): a valid name that is configured.
    pub fn target_env(&self, requested: Option<&str>) -> Result<EnvName, BadInput> {
        let name = EnvName::parse("env", requested.unwrap_or(DEFAULT_ENV))?;
        self.environment(&name).map_err(BadInput::from)?;
        Ok(name)
    }

    pub fn environment(&self, name: &str) -> Result<&Environment, UnknownEnvironment> {
        self.environments.get(name).ok_or_else(|| UnknownEnvironment { name: name.to_string(), configured: self.env_names() })
    }

    /// `prod`, and every environment with `require_confirmation`, is protected.
    pub fn is_protected(&self, env: &str) -> bool {
        env == "prod" || self.environments.get(env).is_some_and(|e| e.require_confirmation)
    }

    pub fn aws(&self) -> Option<&Aws> {
        self.handlers.hosting.aws.as_ref()
    }

    /// The AWS region (us-east-1 when hosting is not configured).
    pub fn region(&self) -> &str {
        self.aws().map_or("us-east-1", |a| a.region.as_str())
    }

    /// The regions `env` deploys to, primary first: its own `regions`, else the project's `regions`, else the
    /// project's `region`; each once.
    pub fn regions(&self, env: &str) -> Vec<String> {
        let own = self.environments.get(env).map(|e| e.regions.as_slice()).unwrap_or_default();
        let project = self.aws().map(|a| a.regions.as_slice()).unwrap_or_default();
        let listed = if !own.is_empty() { own } else { project };
        let mut out: Vec<String> = Vec::new();
        for r in listed {
            if !out.contains(r) {
                out.push(r.clone());
            }
        }
        if out.is_empty() {
            out.push(self.region().to_string());
        }
        out
    }

    /// The primary region of `env`: the first of [`Config::regions`], where global resources are created.
    pub fn primary_region(&self, env: &str) -> String {
        self.regions(env).swap_remove(0)
    }

    /// `region`, when named, must be one of `env`'s regions.
    pub fn check_region(&self, env: &str, region: Option<&str>) -> Result<(), BadInput> {
        let regions = self.regions(env);
        match region {
            Some(r) if !regions.iter().any(|a| a == r) => {
                Err(BadInput::new("region", format!("{env} is not deployed to \"{}\"", r.escape_default()), Some(regions.join(", "))))
            }
            _ => Ok(()),
        }
    }

    /// Whether any environment deploys to more than one region (the generated stack is then a multi-region one).
    pub fn multi_region(&self) -> bool {
        self.environments.keys().any(|e| self.regions(e).len() > 1)
    }

    /// The IaC binary: `terraform` unless `handlers.iac.terraform.binary` says `tofu`.
    pub fn iac_binary(&self) -> &str {
        self.handlers.iac.terraform.as_ref().and_then(|t| t.binary.as_deref()).unwrap_or("terraform")
    }

    /// Values for pattern substitution in `env`; `resource` is left unset.
    pub fn pattern_values<'a>(&'a self, env: &'a str) -> PatternValues<'a> {
        PatternValues {
            project: Some(&self.project.name),
            subsystem: Some(&self.project.subsystem),
            environment: Some(env),
            resource: None,
            organization: self.project.organization.as_deref(),
        }
    }

    /// The name of `resource` in `env` under `resource_naming.pattern`.
    pub fn resource_name(&self, env: &str, resource: &str) -> Result<String, PatternError> {
        pattern::substitute(&self.resource_naming.pattern, &PatternValues { resource: Some(resource), ..self.pattern_values(env) })
    }

    /// The S3 bucket and region of `env`'s Terraform state, when the backend is S3 and names a bucket.
    pub fn state_bucket(&self, env: &str) -> Result<Option<(String, String)>, PatternError> {
        let Some(backend) = self.handlers.iac.terraform.as_ref().map(|t| &t.backend).filter(|b| b.kind == "s3") else {
            return Ok(None);
        };
        let Some(pattern) = backend.bucket.as_deref().filter(|b| !b.is_empty()) else {
            return Ok(None);
        };
        let bucket = pattern::substitute(pattern, &self.pattern_values(env))?;
        Ok(Some((bucket, backend.region.clone().unwrap_or_else(|| self.region().to_string()))))
    }

    /// How long terraform waits for a state lock held by another run.
    pub fn state_lock_wait(&self) -> u32 {
        self.safety.as_ref().and_then(|s| s.state_lock_wait_seconds).unwrap_or(60)
    }

    /// How long a pending operation waits for confirmation.
    pub fn confirmation_ttl(&self) -> chrono::Duration {
        let minutes = self.safety.as_ref().and_then(|s| s.confirmation_ttl_minutes).unwrap_or(15);
        chrono::Duration::minutes(i64::from(minutes))
    }
}

impl Aws {
    /// The profile for a role (`discover` or an environment), whichever spelling was used.
    pub fn profile(&self, role: &str) -> Option<&str> {
        self.profiles.get(role).or_else(|| self.profiles.get(&format!("{role}_deploy"))).map(String::as_str)
    }
}

#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("env: environment \"{name}\" is not configured (configured: {})", configured.join(", "))]
pub struct UnknownEnvironment {
    pub name: String,
    pub configured: Vec<String>,
}

impl From<UnknownEnvironment> for BadInput {
    fn from(e: UnknownEnvironment) -> BadInput {
        BadInput::new("env", format!("environment \"{}\" is not configured", e.name), Some(e.configured.join(", ")))
    }
}

/// `test_deploy` → `test`; `discover_deploy` → `discover`.
fn normalise_profile_key(key: &str) -> &str {
    key.strip_suffix("_deploy").unwrap_or(key)
}

pub use crate::vocabulary::input::is_env_name;

fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
        && parts[0].len() == 2
        && parts.last().is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

fn is_relative_inside(dir: &str) -> bool {
    let path = Path::new(dir);
    !dir.is_empty() && path.is_relative() && path.components().all(|c| !matches!(c, std::path::Component::ParentDir))
}

/// The project name `config init` derives from the directory name.
pub fn project_name_from_dir(dir: &Path) -> String {
    let raw = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let mut name = String::new();
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.ends_with('-') {
            name.push('-');
        }
    }
    let name = name.trim_matches('-');
    let name: String = name.chars().take(40).collect();
    let name = name.trim_matches('-');
    if name.is_empty() { "my-project".into() } else { name.into() }
}

/// serde_json appends " at line L column C"; the error already carries them.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem { path: path.into(), message: message.into() });
    }

    fn name(&mut self, path: &str, value: &str) {
        let ok = !value.is_empty()
            && value.len() <= 40
            && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !value.starts_with('-')
            && !value.ends_with('-');
        if !ok {
            self.add(path, format!("\"{value}\" must be 1 to 40 lowercase letters, digits or '-' (it becomes part of resource names)"));
        }
    }
}

/// `scan`: what the project decides about the security scan (devops.json `scan`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanOptions {
    /// Suppressions from configuration (the inline ones come from the files).
    #[serde(default)]
    pub suppress: Vec<ConfigSuppression>,
}

/// A suppression from configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigSuppression {
    /// A rule id (`FC_S3_004`), the Checkov id it corresponds to (`CKV_AWS_18`),
    /// an external tool's rule id, or `*` for every rule.
    pub rule: String,
    /// A resource address (`aws_s3_bucket.logs`) or an address prefix ending at a
    /// `.`/`[` boundary (`module.legacy` matches `module.legacy.aws_s3_bucket.x`);
    /// absent: every resource.
    #[serde(default)]
    pub resource: Option<String>,
    /// Why it is acceptable here.
    pub reason: String,
}

#[cfg(test)]
mod tests;
