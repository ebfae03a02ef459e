//! test (pre-deployment): validation, the security scan, the cost estimate
//! against the environment's `cost_threshold`, and naming/tag compliance,
//! written to `test-reports/{env}/{timestamp}-pre-deployment.json`.
//!
//! The verdict: FAIL on any CRITICAL, 3 or more HIGH, a validation failure or
//! a cost over the threshold; WARN on 1–2 HIGH, 5 or more MEDIUM, or a cost at
//! 80–100 % of the threshold; PASS otherwise.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::Utc;
use serde::Serialize;
use serde_json::{Value, json};

use crate::config::Config;
use crate::error::Error;
use crate::infra::validate;
use crate::scan::cost::{self, BudgetStatus, PriceTable, Usage};
use crate::scan::security::ScanOptions;
use crate::scan::{Finding, RunOptions, Severity, SeverityCounts, compliance, run_scan};
use crate::vocabulary::Report;
use crate::workspace::Workspace;

/// The usage file the cost estimate reads when present (schema in README).
pub const USAGE_FILE: &str = "usage.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct TestResult {
    pub name: &'static str,
    pub status: Status,
    pub duration_ms: u128,
    pub summary: String,
    pub details: Value,
}

/// Findings by severity, and how many were suppressed.
#[derive(Debug, Default, Serialize, schemars::JsonSchema)]
pub struct Counts {
    #[serde(flatten)]
    pub by_severity: SeverityCounts,
    pub suppressed: usize,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct TestReport {
    pub env: String,
    pub phase: &'static str,
    pub timestamp: String,
    pub directory: PathBuf,
    pub overall_status: Status,
    pub summary: Counts,
    pub monthly_cost: f64,
    pub cost_threshold: Option<f64>,
    pub tests: Vec<TestResult>,
    pub recommendations: Vec<String>,
    pub report_path: PathBuf,
}

impl Report for TestReport {
    fn text(&self) -> String {
        let lines: Vec<String> = self.tests.iter().map(|t| format!("{:?} {}: {}", t.status, t.name, t.summary)).collect();
        let mut out = format!("Pre-deployment tests for {}: {:?}.\n{}", self.env, self.overall_status, lines.join("\n"));
        for r in &self.recommendations {
            out.push_str(&format!("\nRecommendation: {r}"));
        }
        out.push_str(&format!("\nReport: {}", self.report_path.display()));
        out
    }
}

fn counts(findings: &[&Finding], suppressed: usize) -> Counts {
    Counts { by_severity: SeverityCounts::of(findings.iter().copied()), suppressed }
}

/// The verdict of the findings alone (pure).
pub fn verdict(counts: &Counts) -> Status {
    let c = &counts.by_severity;
    if c.critical > 0 || c.high >= 3 {
        Status::Fail
    } else if c.high > 0 || c.medium >= 5 {
        Status::Warn
    } else {
        Status::Pass
    }
}

/// The project's usage assumptions: `usage.json` in the workspace when present, else the table's defaults.
pub fn project_usage(ws: &Workspace) -> Result<Usage, Error> {
    let path = ws.root().join(USAGE_FILE);
    if path.is_file() { Ok(Usage::load(&path, PriceTable::embedded())?) } else { Ok(Usage::default()) }
}

/// The files `env` needs in `dir`, when engineer generated it, that are not there.
fn missing_env_files(dir: &std::path::Path, config: &Config, env: &str) -> Result<Vec<String>, Error> {
    if !dir.join(crate::infra::engineer::MANIFEST).is_file() {
        return Ok(Vec::new());
    }
    Ok(crate::infra::engineer::env_files(config, env)?.into_iter().map(|(name, _)| name).filter(|name| !dir.join(name).exists()).collect())
}

/// Runs the pre-deployment tests for `env` and writes the report.
pub async fn run(ws: &Workspace, config: &Config, env: &str, scan_options: &ScanOptions, how: validate::TerraformValidate) -> Result<TestReport, Error> {
    let dir = validate::directory(ws.project_dir(), config)?;
    let mut tests = Vec::new();
    let mut recommendations = Vec::new();

    // 0. The environment's own files (a generated directory only): an environment added to devops.json after
    // engineer ran has none yet, and terraform would fail on them later.
    let missing = missing_env_files(&dir, config, env)?;
    if !missing.is_empty() {
        recommendations.push(format!(
            "{} for {env} missing from {}: a deploy or preview of {env} writes them from devops.json, or run engineer again.",
            missing.join(" and "),
            dir.display()
        ));
        tests.push(TestResult {
            name: "environment",
            status: Status::Fail,
            duration_ms: 0,
            summary: format!("missing {}", missing.join(", ")),
            details: json!({"missing": missing}),
        });
        return finish(ws, config, env, dir, tests, recommendations, Counts::default(), 0.0);
    }

    // 1. Validation (syntax + terraform validate).
    let started = Instant::now();
    let checked = validate::validation(&dir, config, how).await?;
    let errors = checked.errors();
    let checked_verdict = checked.verdict();
    // Unverified fails too: a test that could not check the configuration never passes.
    let validation_status = if errors.is_empty() && checked_verdict != validate::Verdict::Unverified { Status::Pass } else { Status::Fail };
    if checked_verdict == validate::Verdict::Unverified {
        recommendations.push(format!("terraform could not check the configuration ({}): make it run, then test again.", checked.terraform.detail));
    } else if validation_status == Status::Fail {
        recommendations.push("Fix the validation errors first: nothing else is meaningful until the configuration is valid.".into());
    }
    tests.push(TestResult {
        name: "validation",
        status: validation_status,
        duration_ms: started.elapsed().as_millis(),
        summary: format!("{} file(s); {} error(s); {}", checked.files.len(), errors.len(), checked.terraform.detail),
        details: json!({"files": checked.files, "terraform": checked.terraform, "errors": errors}),
    });
    if validation_status == Status::Fail {
        return finish(ws, config, env, dir, tests, recommendations, Counts::default(), 0.0);
    }
    let module = validate::load(&dir, config, env)?;

    // 2. Security.
    let started = Instant::now();
    // The native rules, plus Checkov / Trivy / tfsec when installed (merged, deduplicated).
    let run = RunOptions { tfvars: validate::var_file(&dir, config, env), external: true, scan: scan_options.clone() };
    let scan = run_scan(&dir, &run).await?;
    let security_findings: Vec<&Finding> = scan.findings.iter().collect();
    let security_counts = counts(&security_findings, scan.suppressed.len());
    let security_status = verdict(&security_counts);
    for f in scan.findings.iter().filter(|f| f.severity >= Severity::High) {
        recommendations.push(format!("{} {} ({}): {}", f.severity.as_str(), f.rule_id, f.resource, f.fix));
    }
    tests.push(TestResult {
        name: "security",
        status: security_status,
        duration_ms: started.elapsed().as_millis(),
        summary: format!(
            "{} rule(s); {} critical, {} high, {} medium, {} low; {} suppressed",
            scan.rules_run,
            security_counts.by_severity.critical,
            security_counts.by_severity.high,
            security_counts.by_severity.medium,
            security_counts.by_severity.low,
            security_counts.suppressed
        ),
        details: json!({"rules_run": scan.rules_run, "findings": scan.findings, "suppressed": scan.suppressed, "external": scan.external, "notes": scan.notes}),
    });

    // 3. Cost.
    let started = Instant::now();
    let table = PriceTable::embedded();
    let usage_path = ws.root().join(USAGE_FILE);
    let usage = project_usage(ws)?;
    let region = config.region();
    let estimate = cost::estimate(&module, table, &usage, region);
    let threshold = config.environment(env)?.cost_threshold;
    let budget = cost::budget_check(estimate.monthly_total, threshold);
    let cost_status = match budget {
        BudgetStatus::Fail { .. } => Status::Fail,
        BudgetStatus::Warn { .. } => Status::Warn,
        BudgetStatus::Pass { .. } => Status::Pass,
    };
    if cost_status != Status::Pass {
        recommendations.push(format!(
            "Estimated {:.2} USD/month against a threshold of {:.2}: right-size the largest items or raise environments.{env}.cost_threshold.",
            estimate.monthly_total,
            threshold.unwrap_or(0.0)
        ));
    }
    if estimate.unpriced_count > 0 {
        recommendations.push(format!("{} resource(s) could not be priced; their cost is not in the total.", estimate.unpriced_count));
    }
    tests.push(TestResult {
        name: "cost",
        status: cost_status,
        duration_ms: started.elapsed().as_millis(),
        summary: format!("{}; budget {}", estimate.summary(), budget.label()),
        details: json!({"estimate": estimate, "budget": budget, "usage_file": usage_path.is_file().then_some(usage_path)}),
    });

    // 4. Compliance.
    let started = Instant::now();
    let compliance_findings = compliance::check(&module, config, env);
    let compliance_refs: Vec<&Finding> = compliance_findings.iter().collect();
    let compliance_counts = counts(&compliance_refs, 0);
    let compliance_status = if compliance_findings.is_empty() { Status::Pass } else { verdict(&compliance_counts).max(Status::Warn) };
    if !compliance_findings.is_empty() {
        recommendations.push(format!("{} naming/tagging issue(s): see the compliance test.", compliance_findings.len()));
    }
    tests.push(TestResult {
        name: "compliance",
        status: compliance_status,
        duration_ms: started.elapsed().as_millis(),
        summary: format!("{} naming/tagging issue(s); required tags: {}", compliance_findings.len(), compliance::required_tags(config).join(", ")),
        details: json!({"findings": compliance_findings}),
    });

    let all: Vec<&Finding> = scan.findings.iter().chain(compliance_findings.iter()).collect();
    let summary = counts(&all, scan.suppressed.len());
    finish(ws, config, env, dir, tests, recommendations, summary, estimate.monthly_total)
}

#[allow(clippy::too_many_arguments)]
fn finish(
    ws: &Workspace,
    config: &Config,
    env: &str,
    dir: PathBuf,
    tests: Vec<TestResult>,
    recommendations: Vec<String>,
    summary: Counts,
    monthly_cost: f64,
) -> Result<TestReport, Error> {
    let overall = tests.iter().map(|t| t.status).max().unwrap_or(Status::Pass).max(verdict(&summary));
    let now = Utc::now();
    let stamp = now.format("%Y%m%dT%H%M%SZ").to_string();
    let report_path = ws.path(&format!("test-reports/{env}/{stamp}-pre-deployment.json"))?;
    let report = TestReport {
        env: env.into(),
        phase: "pre-deployment",
        timestamp: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        directory: dir,
        overall_status: overall,
        summary,
        monthly_cost,
        cost_threshold: config.environment(env)?.cost_threshold,
        tests,
        recommendations,
        report_path: report_path.clone(),
    };
    ws.write_json(&report_path, &report)?;
    Ok(report)
}

/// Where reports of `env` are.
pub fn reports_dir(ws: &Workspace, env: &str) -> Option<PathBuf> {
    ws.path(&format!("test-reports/{env}")).ok().filter(|p: &PathBuf| Path::new(p).is_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_table() {
        let c = |critical, high, medium| Counts { by_severity: SeverityCounts { critical, high, medium, ..SeverityCounts::default() }, suppressed: 0 };
        for (counts, want) in [
            (c(0, 0, 0), Status::Pass),
            (c(0, 0, 4), Status::Pass),
            (c(0, 0, 5), Status::Warn),
            (c(0, 1, 0), Status::Warn),
            (c(0, 2, 0), Status::Warn),
            (c(0, 3, 0), Status::Fail),
            (c(1, 0, 0), Status::Fail),
        ] {
            assert_eq!(verdict(&counts), want, "{counts:?}");
        }
    }
}
