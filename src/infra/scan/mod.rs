//! Static checks of a Terraform configuration ([`crate::infra::tf::Module`]):
//! the security scan, the cost estimate, and naming/tag compliance. They share
//! one finding shape so reports, SARIF and the MCP replies treat them alike.
//!
//! Pure: the checks read a `Module` and return findings; loading files and
//! running external scanners happen at the edges.

pub mod compliance;
pub mod cost;

use serde::{Deserialize, Serialize};

/// How bad a finding is. Ordered: `Critical > High > Medium > Low > Info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "INFO",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }
}

/// One problem found in the configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable id of the rule (`FC_S3_001`), or of the external tool's rule.
    pub rule_id: String,
    pub severity: Severity,
    pub title: String,
    /// The Checkov check this rule corresponds to, when there is one (`CKV_AWS_18`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkov_id: Option<String>,
    /// Resource address (`aws_s3_bucket.uploads`).
    pub resource: String,
    /// File relative to the scanned directory (or the plan file name).
    pub file: String,
    /// 1-based line; 0 when unknown (plan input).
    pub line: u32,
    /// What is wrong here, in a sentence.
    pub message: String,
    /// How to fix it.
    pub fix: String,
    /// Who found it: `faber-cloud`, `checkov`, `trivy`, `tfsec`.
    pub source: String,
}

/// A finding that a suppression silenced, kept for the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suppressed {
    #[serde(flatten)]
    pub finding: Finding,
    /// `inline` (a `# faber:ignore` comment) or `config`.
    pub by: String,
    pub reason: String,
}
