//! Static checks of a Terraform configuration ([`crate::tf::Module`]):
//! the security scan, the cost estimate, and naming/tag compliance. They share
//! one finding shape so reports, SARIF and the MCP replies treat them alike.
//!
//! Pure: the checks read a `Module` and return findings; loading files and
//! running external scanners happen at the edges.

pub mod compliance;
pub mod cost;

pub mod external;
pub mod sarif;
pub mod security;

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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Suppressed {
    #[serde(flatten)]
    pub finding: Finding,
    /// `inline` (a `# faber:ignore` comment) or `config`.
    pub by: String,
    pub reason: String,
}

// ---------------------------------------------------------------------------
// The security scan's edge: load a directory or a plan, run the native rules
// and any installed external scanner, and report. Everything above is pure.

/// What [`run_scan`] is asked to do.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Variable values for a directory scan (ignored for a plan, which holds its values).
    pub tfvars: Option<std::path::PathBuf>,
    /// Run Checkov / Trivy / tfsec too when they are installed.
    pub external: bool,
    pub scan: security::ScanOptions,
}

/// Counts of findings by severity.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct SeverityCounts {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub info: usize,
}

impl SeverityCounts {
    pub fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> SeverityCounts {
        let mut c = SeverityCounts::default();
        for f in findings {
            *match f.severity {
                Severity::Critical => &mut c.critical,
                Severity::High => &mut c.high,
                Severity::Medium => &mut c.medium,
                Severity::Low => &mut c.low,
                Severity::Info => &mut c.info,
            } += 1;
        }
        c
    }
}

/// The result of `faber-cloud scan`: what was read, what was found, what was silenced.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ScanReport {
    /// The path as given.
    pub path: String,
    /// `directory` or `plan`.
    pub input: &'static str,
    pub files: usize,
    pub resources: usize,
    pub rules_run: usize,
    pub counts: SeverityCounts,
    pub findings: Vec<Finding>,
    pub suppressed: Vec<Suppressed>,
    pub external: Vec<external::ToolRun>,
    pub notes: Vec<String>,
}

impl ScanReport {
    /// Whether any finding is at or above `threshold`.
    pub fn fails(&self, threshold: Severity) -> bool {
        self.findings.iter().any(|f| f.severity >= threshold)
    }

    /// One line per finding (`SEVERITY rule file:line resource — title (checkov id)`),
    /// then a summary line; each finding's specific message is in the JSON report.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for f in &self.findings {
            let place = if f.line > 0 { format!("{}:{}", self.display_file(&f.file), f.line) } else { self.display_file(&f.file) };
            let checkov = f.checkov_id.as_deref().map(|c| format!(" ({c})")).unwrap_or_default();
            let source = if f.source == security::SOURCE { String::new() } else { format!(" [{}]", f.source) };
            out.push_str(&format!("{:<8} {} {place} {} — {}{checkov}{source}\n", f.severity.as_str(), f.rule_id, f.resource, f.title));
        }
        let c = &self.counts;
        out.push_str(&format!(
            "{} finding(s): {} critical, {} high, {} medium, {} low, {} info; {} suppressed; {} rules over {} resources in {} file(s)",
            self.findings.len(),
            c.critical,
            c.high,
            c.medium,
            c.low,
            c.info,
            self.suppressed.len(),
            self.rules_run,
            self.resources,
            self.files
        ));
        for run in &self.external {
            if let Some(note) = &run.note {
                out.push_str(&format!("\n{}: {note}", run.tool.name()));
            } else if run.status == external::ToolStatus::Ran {
                out.push_str(&format!("\n{}: {} more finding(s), {} already reported", run.tool.name(), run.findings, run.duplicates));
            }
        }
        for note in &self.notes {
            out.push_str(&format!("\nnote: {note}"));
        }
        out
    }

    /// The SARIF 2.1.0 log of this report.
    pub fn sarif(&self) -> serde_json::Value {
        let dir = if self.input == "plan" {
            std::path::Path::new(&self.path).parent().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default()
        } else {
            self.path.clone()
        };
        sarif::log(&self.findings, &self.suppressed, &sarif::Base { dir })
    }

    /// A finding's file as a path a person can open from where the scan ran.
    fn display_file(&self, file: &str) -> String {
        if self.input == "plan" {
            return self.path.clone();
        }
        std::path::Path::new(&self.path).join(file).to_string_lossy().into_owned()
    }
}

/// Scans a directory of `.tf` files or a plan in `terraform show -json` form.
/// Bad input (a missing path, HCL that does not parse, a file that is not a
/// plan) is [`crate::Error::BadInput`] naming the file and line.
pub async fn run_scan(path: &std::path::Path, opts: &RunOptions) -> Result<ScanReport, crate::Error> {
    use crate::Error;
    use crate::tf::{self, TfError};

    let bad = |message: String| Error::bad_input("path", message, Some("a directory of .tf files, or a plan JSON file (terraform show -json)".into()));
    let meta = std::fs::metadata(path).map_err(|e| bad(format!("{}: {e}", path.display())))?;
    let mut notes = Vec::new();
    let started = std::time::Instant::now();
    let (module, plan) = if meta.is_dir() {
        let module = tf::load_dir(path, opts.tfvars.as_deref()).map_err(|e| match e {
            TfError::Syntax { file, line, column, message } => bad(format!("{}:{line}:{column}: syntax error: {message}", path.join(file).display())),
            other => bad(other.to_string()),
        })?;
        (module, false)
    } else if path.extension().is_some_and(|x| x.eq_ignore_ascii_case("json")) {
        let bytes = std::fs::read(path).map_err(|e| bad(format!("{}: {e}", path.display())))?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "plan.json".into());
        let mut module = tf::load_plan_text(&bytes, &name).map_err(|message| bad(TfError::Plan { path: path.to_path_buf(), message }.to_string()))?;
        if let Ok(doc) = tf::decode_json(&bytes) {
            security::plan_refs::restore(&mut module, &doc);
        }
        if opts.tfvars.is_some() {
            notes.push("--tfvars is ignored for a plan: the plan already holds the variable values".to_string());
        }
        (module, true)
    } else {
        return Err(bad(format!("{}: not a directory and not a .json plan", path.display())));
    };

    let loaded = started.elapsed();
    let security::ScanResult { mut findings, mut suppressed, rules_run } = security::scan(&module, &opts.scan);
    tracing::debug!(
        load_ms = loaded.as_millis() as u64,
        rules_ms = (started.elapsed() - loaded).as_millis() as u64,
        resources = module.resources.len(),
        "scanned"
    );
    let mut runs = Vec::new();
    if opts.external {
        let (results, tool_runs) = external::run_tools(path, plan).await;
        runs = tool_runs;
        for (tool, found) in results {
            let (kept, duplicates) = external::merge(tool, &mut findings, &suppressed, found);
            let (kept, silenced) = security::suppress_external(&module, &opts.scan, kept);
            if let Some(run) = runs.iter_mut().find(|r| r.tool == tool) {
                run.findings = kept.len();
                run.duplicates = duplicates;
            }
            findings.extend(kept);
            suppressed.extend(silenced);
        }
        security::sort(&mut findings);
    }
    let counts = SeverityCounts::of(&findings);
    let (files, resources) = (module.files.len(), module.resources.iter().filter(|r| !r.data).count());
    // A large module takes a while to free: let another thread do it.
    if resources > 2_000 {
        std::thread::spawn(move || drop(module));
    }
    Ok(ScanReport {
        path: path.to_string_lossy().into_owned(),
        input: if plan { "plan" } else { "directory" },
        files,
        resources,
        rules_run,
        counts,
        findings,
        suppressed,
        external: runs,
        notes,
    })
}
