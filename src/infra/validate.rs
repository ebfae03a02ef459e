//! validate-config: every `.tf` file parsed (syntax errors with file:line),
//! `terraform validate -json` when terraform is installed (said plainly when it
//! is not), naming and required tags, and the security settings — one
//! diagnostic per problem, each with file, line, rule and a fix hint.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::config::{Config, pattern};
use crate::error::Error;
use crate::iac::runner::{Cmd, RunError};
use crate::scan::security::{self, ScanOptions};
use crate::scan::{Finding, Severity, Suppressed, compliance};
use crate::tf::{self, Module, TfError};
use crate::vocabulary::Report;

/// What `terraform validate` contributed.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TerraformCheck {
    pub status: CheckStatus,
    pub detail: String,
}

/// Whether `terraform validate` ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Ran,
    /// terraform is not installed.
    NotAvailable,
    /// It could not run (init failed, or it printed no report).
    Failed,
    /// Skipped: the files have syntax errors.
    NotRun,
    /// A deploy's plan validates right after; running it twice would load the provider twice.
    DeferredToPlan,
}

/// Whether validation runs `terraform validate` itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TerraformValidate {
    Run,
    /// Inside a deploy: `terraform plan` validates the same configuration a moment later.
    DeferToPlan,
}

/// What validation could establish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Valid,
    Invalid,
    /// terraform could not check it (not installed, a provider it could not
    /// install, no network): nothing says the configuration is wrong, nor right.
    Unverified,
}

/// The result of validate-config.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ValidateReport {
    pub env: String,
    pub directory: PathBuf,
    pub files: Vec<String>,
    /// No syntax error, and terraform validate ran and found no error.
    pub valid: bool,
    pub verdict: Verdict,
    pub terraform: TerraformCheck,
    pub diagnostics: Vec<Finding>,
    pub suppressed: Vec<Suppressed>,
    pub resources: usize,
}

impl Report for ValidateReport {
    fn text(&self) -> String {
        let worst = self.diagnostics.first().map(|d| format!(" Worst: {} {} at {}:{}.", d.severity.as_str(), d.rule_id, d.file, d.line)).unwrap_or_default();
        let mut out = format!(
            "{} for env {}: {} file(s), {} resource(s), {} diagnostic(s); {}.{worst}",
            match self.verdict {
                Verdict::Valid => "Valid",
                Verdict::Invalid => "Invalid",
                Verdict::Unverified => "Unverified (terraform could not check it)",
            },
            self.env,
            self.files.len(),
            self.resources,
            self.diagnostics.len(),
            self.terraform.detail
        );
        const SHOWN: usize = 20;
        for d in self.diagnostics.iter().take(SHOWN) {
            out.push_str(&format!("\n{} {} {}:{} {}: {}", d.severity.as_str(), d.rule_id, d.file, d.line, d.resource, d.message));
        }
        if let Some(more) = crate::vocabulary::report::more(SHOWN, self.diagnostics.len(), "diagnostic(s)") {
            out.push_str(&format!("\n{more}"));
        }
        if !self.suppressed.is_empty() {
            out.push_str(&format!("\n{} finding(s) suppressed (listed in the structured result).", self.suppressed.len()));
        }
        out
    }
}

/// The Terraform directory of the project, which must exist.
pub fn directory(project_dir: &Path, config: &Config) -> Result<PathBuf, Error> {
    let ws = crate::workspace::Workspace::at(project_dir.to_path_buf());
    let dir = crate::infra::engineer::terraform_dir(&ws, config).ok_or_else(|| Error::bad_input("handlers.iac.terraform", "is not configured", None))?;
    if !dir.is_dir() {
        return Err(Error::bad_input(
            "handlers.iac.terraform.directory",
            format!("{} does not exist", dir.display()),
            Some("run engineer first, or point directory at your Terraform".into()),
        ));
    }
    Ok(dir)
}

/// The environment's var file, when it exists.
/// The name of `env`'s variable file (`var_file_pattern` substituted).
pub fn var_file_name(config: &Config, env: &str) -> Option<String> {
    let tf = config.handlers.iac.terraform.as_ref()?;
    pattern::substitute(&tf.var_file_pattern, &config.pattern_values(env)).ok()
}

pub fn var_file(dir: &Path, config: &Config, env: &str) -> Option<PathBuf> {
    let path = dir.join(var_file_name(config, env)?);
    path.is_file().then_some(path)
}

fn diag(rule: &str, severity: Severity, file: &str, line: u32, title: &str, message: String, fix: &str) -> Finding {
    Finding {
        rule_id: rule.into(),
        severity,
        title: title.into(),
        checkov_id: None,
        resource: String::new(),
        file: file.into(),
        line,
        message,
        fix: fix.into(),
        source: "faber-cloud".into(),
    }
}

/// Parses each file on its own, so every syntax error is reported, not only the first.
pub fn syntax(dir: &Path) -> Result<(Vec<String>, Vec<Finding>), Error> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::bad_input("handlers.iac.terraform.directory", format!("{}: {e}", dir.display()), None))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "tf"))
        .collect();
    files.sort();
    let mut names = Vec::new();
    let mut out = Vec::new();
    for path in files {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?").to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| crate::workspace::WorkspaceError::io(&path, e))?;
        if let Err(TfError::Syntax { line, column, message, .. }) = tf::load_sources(&[(name.clone(), text)]) {
            out.push(diag(
                "HCL_SYNTAX",
                Severity::Critical,
                &name,
                line as u32,
                "Syntax error",
                format!("line {line}, column {column}: {message}"),
                "fix the syntax; `terraform fmt` points at the same place",
            ));
        }
        names.push(name);
    }
    Ok((names, out))
}

/// `terraform init -backend=false` then `terraform validate -json`.
pub async fn terraform_validate(dir: &Path, binary: &str) -> (TerraformCheck, Vec<Finding>) {
    let init =
        Cmd::new(binary).args(["init", "-backend=false", "-input=false", "-no-color"]).cwd(dir).env("TF_IN_AUTOMATION", "1").timeout(Duration::from_secs(300));
    match init.run().await {
        Ok(_) => {}
        Err(RunError::NotFound { program, hint }) => {
            return (
                TerraformCheck {
                    status: CheckStatus::NotAvailable,
                    detail: format!("{program} is not installed ({hint}); only faber-cloud's own parser checked the syntax"),
                },
                Vec::new(),
            );
        }
        // terraform could not even read the configuration (the 0.11 form `type = "string"`, a module that is
        // not there, a provider it cannot install): that is a finding, never a silent "valid".
        Err(e) => {
            let finding = run_failure("TF_INIT", "terraform init failed", &e);
            return (TerraformCheck { status: CheckStatus::Failed, detail: e.to_string() }, vec![finding]);
        }
    }
    let validate = Cmd::new(binary).args(["validate", "-json", "-no-color"]).cwd(dir).env("TF_IN_AUTOMATION", "1").timeout(Duration::from_secs(300));
    let out = match validate.output().await {
        Ok(out) => out,
        Err(e) => {
            let finding = run_failure("TF_VALIDATE", "terraform validate could not run", &e);
            return (TerraformCheck { status: CheckStatus::Failed, detail: e.to_string() }, vec![finding]);
        }
    };
    let report: serde_json::Value = match serde_json::from_slice(&out.stdout) {
        Ok(v) => v,
        Err(e) => {
            let detail = format!("{} validate -json printed no JSON ({e}): {}", binary, crate::iac::runner::trim_stderr(&out.stderr));
            let mut finding = diag(
                "TF_VALIDATE",
                Severity::High,
                "",
                0,
                "terraform validate printed no report",
                detail.clone(),
                "run terraform validate in the directory to see why",
            );
            finding.source = "terraform".into();
            return (TerraformCheck { status: CheckStatus::Failed, detail }, vec![finding]);
        }
    };
    let mut found = Vec::new();
    for d in report["diagnostics"].as_array().into_iter().flatten() {
        let severity = if d["severity"] == "error" { Severity::High } else { Severity::Low };
        let file = d["range"]["filename"].as_str().unwrap_or("").to_string();
        let line = d["range"]["start"]["line"].as_u64().unwrap_or(0) as u32;
        let summary = d["summary"].as_str().unwrap_or("terraform validate").to_string();
        let detail = d["detail"].as_str().unwrap_or("").to_string();
        let mut f = diag(
            "TF_VALIDATE",
            severity,
            &file,
            line,
            &summary,
            if detail.is_empty() { summary.clone() } else { format!("{summary}: {detail}") },
            "see the message; terraform validate checks references, types and required arguments",
        );
        f.source = "terraform".into();
        if d["severity"] != "error" {
            f.rule_id = "TF_VALIDATE_WARNING".into();
        }
        found.push(f);
    }
    let valid = report["valid"].as_bool().unwrap_or(false);
    let detail = format!(
        "{} validate: {} ({} error(s), {} warning(s))",
        binary,
        if valid { "valid" } else { "invalid" },
        report["error_count"],
        report["warning_count"]
    );
    (TerraformCheck { status: CheckStatus::Ran, detail }, found)
}

/// A terraform run that failed, as a finding: Terraform's first error, at the file and line it names.
fn run_failure(rule: &str, what: &str, e: &RunError) -> Finding {
    let text = match e {
        RunError::Failed { stderr, .. } => stderr.clone(),
        other => other.to_string(),
    };
    // The error that names a place, else the last one (the first is often terraform's general preamble).
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let placed = lines.iter().position(|l| l.starts_with("on ") && l.contains(" line "));
    let summary =
        lines[..placed.unwrap_or(lines.len())].iter().rev().find(|l| l.starts_with("Error:")).map(|l| l.trim_start_matches("Error:").trim().to_string());
    let (file, line) = text
        .lines()
        .find_map(|l| {
            let rest = l.trim().strip_prefix("on ")?;
            let (file, rest) = rest.split_once(" line ")?;
            let line: u32 = rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()?;
            Some((file.to_string(), line))
        })
        .unwrap_or_default();
    let title = summary.clone().unwrap_or_else(|| what.to_string());
    let mut f =
        diag(rule, Severity::High, &file, line, &title, format!("{what}: {}", crate::redact::redact(&text)), "fix what terraform names, then validate again");
    f.source = "terraform".into();
    f
}

/// Loads the module as `env` sees it (its var file applied).
pub fn load(dir: &Path, config: &Config, env: &str) -> Result<Module, Error> {
    tf::load_dir(dir, var_file(dir, config, env).as_deref()).map_err(|e| Error::bad_input("handlers.iac.terraform.directory", e.to_string(), None))
}

/// Syntax of every file, then `terraform validate` when the syntax is sound.
pub struct Validation {
    pub files: Vec<String>,
    pub syntax: Vec<Finding>,
    pub terraform: TerraformCheck,
    /// `terraform validate`'s diagnostics, errors and warnings.
    pub terraform_diagnostics: Vec<Finding>,
}

impl Validation {
    /// The problems that make the configuration invalid.
    pub fn errors(&self) -> Vec<&Finding> {
        self.syntax.iter().chain(self.terraform_diagnostics.iter().filter(|d| d.rule_id == "TF_VALIDATE" || d.rule_id == "TF_INIT")).collect()
    }

    /// Invalid when an error points into the configuration; unverified when
    /// terraform could not run for another reason (not installed, a provider
    /// it could not install); valid only when terraform ran and agreed.
    pub fn verdict(&self) -> Verdict {
        let errors = self.errors();
        let could_not_run = matches!(self.terraform.status, CheckStatus::NotAvailable | CheckStatus::Failed);
        if errors.iter().any(|e| !e.file.is_empty()) || (!errors.is_empty() && !could_not_run) {
            Verdict::Invalid
        } else if could_not_run {
            Verdict::Unverified
        } else {
            Verdict::Valid
        }
    }
}

/// The validation step shared by validate-config and the pre-deployment test.
pub async fn validation(dir: &Path, config: &Config, how: TerraformValidate) -> Result<Validation, Error> {
    let (files, syntax) = syntax(dir)?;
    if files.is_empty() {
        return Err(Error::bad_input("handlers.iac.terraform.directory", format!("{} holds no .tf file", dir.display()), Some("run engineer first".into())));
    }
    let (terraform, terraform_diagnostics) = if !syntax.is_empty() {
        (TerraformCheck { status: CheckStatus::NotRun, detail: "skipped: fix the syntax errors first".into() }, Vec::new())
    } else if how == TerraformValidate::DeferToPlan {
        (TerraformCheck { status: CheckStatus::DeferredToPlan, detail: "terraform validate runs as part of the plan (step 2)".into() }, Vec::new())
    } else {
        terraform_validate(dir, config.iac_binary()).await
    };
    Ok(Validation { files, syntax, terraform, terraform_diagnostics })
}

/// Runs validate-config for `env`.
pub async fn run(project_dir: &Path, config: &Config, env: &str, suppress: &ScanOptions) -> Result<ValidateReport, Error> {
    let dir = directory(project_dir, config)?;
    let checked = validation(&dir, config, TerraformValidate::Run).await?;
    let verdict = checked.verdict();
    let valid = verdict == Verdict::Valid;
    let syntax_ok = checked.syntax.is_empty();
    let Validation { files, syntax, terraform, terraform_diagnostics } = checked;
    let mut diagnostics = syntax;
    diagnostics.extend(terraform_diagnostics);
    let mut suppressed = Vec::new();
    let mut resources = 0;
    if syntax_ok {
        let module = load(&dir, config, env)?;
        resources = module.resources.iter().filter(|r| !r.data).count();
        diagnostics.extend(compliance::check(&module, config, env));
        let scan = security::scan(&module, suppress);
        diagnostics.extend(scan.findings);
        suppressed = scan.suppressed;
    }
    diagnostics.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.file.cmp(&b.file)).then(a.line.cmp(&b.line)));
    Ok(ValidateReport { env: env.into(), directory: dir, files, valid, verdict, terraform, diagnostics, suppressed, resources })
}
