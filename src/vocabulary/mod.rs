//! The ground floor: the words every layer uses — the managers' operations,
//! remediation actions, audit focus, a routed request ([`Intent`]), how a reply
//! ended ([`Status`]), the kinds of gated action, the resource kinds
//! ([`resource`]) and the values parsed once at the edge ([`input`]).
//!
//! Imports nothing of this crate: every other module may import it, and it
//! changes only when the product's vocabulary does.

pub mod input;
pub mod report;
pub mod resource;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use input::{BadInput, EnvName, ServiceName, Timeframe};
pub use report::{Reply, Report, render};

/// The environment used when none is named.
pub const DEFAULT_ENV: &str = "test";

/// The operations of `infra-manager`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum InfraOperation {
    /// Turn a feature description into a design document.
    Architect,
    /// Generate Terraform from a design document.
    Engineer,
    /// Check Terraform syntax, naming, tags and security settings.
    ValidateConfig,
    /// Pre-deployment tests: security scan, cost estimate, compliance.
    Test,
    /// Plan and summarise what would change (+ ~ -).
    PreviewChanges,
    /// Test, preview, approve, apply, verify, and document a deployment.
    Deploy,
    /// List deployed resources with console links.
    ShowResources,
    /// Categorise a deployment error and propose fixes.
    Debug,
    /// Tear down an environment: plan -destroy, always confirmed, then the registry emptied.
    Destroy,
}

impl InfraOperation {
    pub const ALL: [InfraOperation; 9] = [
        InfraOperation::Architect,
        InfraOperation::Engineer,
        InfraOperation::ValidateConfig,
        InfraOperation::Test,
        InfraOperation::PreviewChanges,
        InfraOperation::Deploy,
        InfraOperation::ShowResources,
        InfraOperation::Debug,
        InfraOperation::Destroy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InfraOperation::Architect => "architect",
            InfraOperation::Engineer => "engineer",
            InfraOperation::ValidateConfig => "validate-config",
            InfraOperation::Test => "test",
            InfraOperation::PreviewChanges => "preview-changes",
            InfraOperation::Deploy => "deploy",
            InfraOperation::ShowResources => "show-resources",
            InfraOperation::Debug => "debug",
            InfraOperation::Destroy => "destroy",
        }
    }

    /// Whether the operation can change cloud resources (and so passes the gate).
    pub fn mutates(self) -> bool {
        matches!(self, InfraOperation::Deploy | InfraOperation::Debug | InfraOperation::Destroy)
    }
}

/// The operations of `ops-manager`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum OpsOperation {
    /// HEALTHY / DEGRADED / UNHEALTHY per service from CloudWatch metrics and alarms.
    CheckHealth,
    /// Search CloudWatch Logs of a service.
    QueryLogs,
    /// Timeline, error patterns, correlation and root-cause candidates.
    Investigate,
    /// Invocations, errors, duration, throttles, trends and recommendations.
    AnalyzePerformance,
    /// restart / scale / rollback, through the confirmation gate.
    Remediate,
    /// Cost, security or compliance audit.
    Audit,
}

impl OpsOperation {
    pub const ALL: [OpsOperation; 6] = [
        OpsOperation::CheckHealth,
        OpsOperation::QueryLogs,
        OpsOperation::Investigate,
        OpsOperation::AnalyzePerformance,
        OpsOperation::Remediate,
        OpsOperation::Audit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OpsOperation::CheckHealth => "check-health",
            OpsOperation::QueryLogs => "query-logs",
            OpsOperation::Investigate => "investigate",
            OpsOperation::AnalyzePerformance => "analyze-performance",
            OpsOperation::Remediate => "remediate",
            OpsOperation::Audit => "audit",
        }
    }
}

/// Remediation actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum RemediationAction {
    Restart,
    Scale,
    Rollback,
}

impl RemediationAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RemediationAction::Restart => "restart",
            RemediationAction::Scale => "scale",
            RemediationAction::Rollback => "rollback",
        }
    }
}

/// Audit focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum AuditFocus {
    Cost,
    Security,
    Compliance,
    /// All three.
    All,
}

impl AuditFocus {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditFocus::Cost => "cost",
            AuditFocus::Security => "security",
            AuditFocus::Compliance => "compliance",
            AuditFocus::All => "all",
        }
    }
}

/// The phase of the `test` operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Before a deploy: validation, security, cost, compliance (the default).
    #[default]
    PreDeployment,
    /// After a deploy: what the state says exists, checked with AWS.
    PostDeployment,
}

/// Which manager runs an operation, and which operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "manager", content = "operation")]
pub enum Target {
    #[serde(rename = "infra-manager")]
    Infra(InfraOperation),
    #[serde(rename = "ops-manager")]
    Ops(OpsOperation),
}

impl Target {
    pub fn manager(self) -> &'static str {
        match self {
            Target::Infra(_) => "infra-manager",
            Target::Ops(_) => "ops-manager",
        }
    }

    pub fn operation(self) -> &'static str {
        match self {
            Target::Infra(op) => op.as_str(),
            Target::Ops(op) => op.as_str(),
        }
    }

    /// A short label in the user's words, as shown in a clarification.
    pub fn label(self) -> &'static str {
        match self {
            Target::Infra(InfraOperation::Architect) => "Design infrastructure (architect)",
            Target::Infra(InfraOperation::Engineer) => "Generate Terraform code from a design",
            Target::Infra(InfraOperation::ValidateConfig) => "Validate infrastructure configuration",
            Target::Infra(InfraOperation::Test) => "Run pre-deployment tests (security, cost, compliance)",
            Target::Infra(InfraOperation::PreviewChanges) => "Preview infrastructure changes",
            Target::Infra(InfraOperation::Deploy) => "Deploy infrastructure",
            Target::Infra(InfraOperation::ShowResources) => "Show deployed resources",
            Target::Infra(InfraOperation::Debug) => "Debug a deployment error",
            Target::Infra(InfraOperation::Destroy) => "Tear down an environment (destroy every resource)",
            Target::Ops(OpsOperation::CheckHealth) => "Check health of running services",
            Target::Ops(OpsOperation::QueryLogs) => "Query service logs",
            Target::Ops(OpsOperation::Investigate) => "Investigate errors in running services",
            Target::Ops(OpsOperation::AnalyzePerformance) => "Analyze performance",
            Target::Ops(OpsOperation::Remediate) => "Remediate a service (restart, scale, rollback)",
            Target::Ops(OpsOperation::Audit) => "Audit cost, security or compliance",
        }
    }
}

/// Where the environment of an intent came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnvSource {
    /// Given as a separate argument.
    Explicit,
    /// Named in the request.
    Detected,
    /// Not named: the default (test).
    Default,
}

/// Arguments the director found in a request, named as the managers' fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IntentArgs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeframe: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<RemediationAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub focus: Option<AuditFocus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub design: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skip_tests: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skip_preview: bool,
    // The AWS region the request names ("in eu-west-1", "in Frankfurt").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// A routed request: which operation, on which environment, with which arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Intent {
    #[serde(flatten)]
    pub target: Target,
    pub env: String,
    pub env_source: EnvSource,
    pub args: IntentArgs,
}

/// How a reply ended, for exit codes and for the assistant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Routed,
    Clarify,
    AwaitingConfirmation,
    Cancelled,
    /// The request is outside what the product does; nothing ran.
    Unsupported,
}

impl Status {
    /// 0 success, 1 not executed (cancelled, or not something the product does), 3 waiting for a human answer.
    pub fn exit_code(self) -> i32 {
        match self {
            Status::Ok | Status::Routed => 0,
            Status::Cancelled | Status::Unsupported => 1,
            Status::Clarify | Status::AwaitingConfirmation => 3,
        }
    }
}

/// The kinds of mutating action that pass the gate; a pending operation
/// records which one it will run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKind {
    /// The gate's end-to-end test target (test builds only).
    Selftest,
    /// Steps 4–9 of a deploy: apply the saved plan, verify, document.
    Deploy,
    /// A least-privilege IAM statement attached with the discover profile.
    PermissionFix,
    /// Restart, scale or roll back a service.
    Remediate,
    /// Apply a saved destroy plan: the teardown of an environment.
    Destroy,
    /// Create the S3 bucket that holds Terraform's state.
    BootstrapBackend,
}
