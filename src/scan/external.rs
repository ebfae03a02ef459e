//! Optional external scanners: Checkov, and Trivy (or its predecessor tfsec
//! when Trivy is absent). When one is on PATH it runs through the one process
//! runner ([`crate::iac::runner::Cmd`]) with JSON output; its findings are
//! mapped to [`Finding`] with `source` naming the tool, and [`merge`]d with
//! ours: a Checkov finding for the same resource and Checkov id as one of ours
//! is dropped and noted on ours ("Also found by checkov").
//!
//! Never required: a missing tool, a failing run or unreadable output becomes
//! a [`ToolRun`] note, and the scan goes on with its own findings.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value as J;

use super::security::{self, strip_index};
use super::{Finding, Severity, Suppressed};
use crate::iac::runner::{self, Cmd};

/// An external scanner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Tool {
    Checkov,
    Trivy,
    Tfsec,
}

/// What happened to one tool.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ToolRun {
    pub tool: Tool,
    pub status: ToolStatus,
    /// Findings kept from this tool (after deduplication).
    pub findings: usize,
    /// Findings dropped because one of ours says the same.
    pub duplicates: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ToolStatus {
    Ran,
    NotInstalled,
    Skipped,
    Failed,
}

/// How long one external scanner may take.
const TIMEOUT: Duration = Duration::from_secs(300);

impl Tool {
    pub fn name(self) -> &'static str {
        match self {
            Tool::Checkov => "checkov",
            Tool::Trivy => "trivy",
            Tool::Tfsec => "tfsec",
        }
    }

    fn command(self, target: &Path, plan: bool) -> Cmd {
        match (self, plan) {
            (Tool::Checkov, false) => Cmd::new("checkov").arg("-d").arg(target).args(["--framework", "terraform"]),
            (Tool::Checkov, true) => Cmd::new("checkov").arg("-f").arg(target).args(["--framework", "terraform_plan"]),
            (Tool::Trivy, _) => Cmd::new("trivy").args(["config", "--format", "json", "--quiet"]).arg(target),
            (Tool::Tfsec, _) => Cmd::new("tfsec").arg(target).args(["--format", "json", "--no-colour"]),
        }
        .args(if self == Tool::Checkov { &["-o", "json", "--quiet", "--compact", "--skip-download"][..] } else { &[][..] })
        .timeout(TIMEOUT)
    }

    /// Exit statuses that mean "ran" (1 is "found something" for checkov and tfsec).
    fn ok_status(self, status: i32) -> bool {
        match self {
            Tool::Checkov | Tool::Tfsec => status == 0 || status == 1,
            Tool::Trivy => status == 0,
        }
    }

    fn parse(self, stdout: &str, target_dir: &Path) -> Result<Vec<Finding>, String> {
        match self {
            Tool::Checkov => parse_checkov(stdout),
            Tool::Trivy => parse_trivy(stdout),
            Tool::Tfsec => parse_tfsec(stdout, target_dir),
        }
    }
}

/// Runs every installed scanner on `target` (a directory, or a plan file when `plan`).
pub async fn run_tools(target: &Path, plan: bool) -> (Vec<(Tool, Vec<Finding>)>, Vec<ToolRun>) {
    let trivy_installed = runner::on_path("trivy").is_some();
    let mut results = Vec::new();
    let mut runs = Vec::new();
    for tool in [Tool::Checkov, Tool::Trivy, Tool::Tfsec] {
        let run = |status, note: Option<String>| ToolRun { tool, status, findings: 0, duplicates: 0, note };
        if runner::on_path(tool.name()).is_none() {
            runs.push(run(ToolStatus::NotInstalled, None));
            continue;
        }
        if tool == Tool::Tfsec && trivy_installed {
            runs.push(run(ToolStatus::Skipped, Some("trivy is installed and carries tfsec's checks".into())));
            continue;
        }
        if tool == Tool::Tfsec && plan {
            runs.push(run(ToolStatus::Skipped, Some("tfsec does not read plan JSON".into())));
            continue;
        }
        let cmd = tool.command(target, plan);
        let dir = if plan { target.parent().unwrap_or(Path::new(".")) } else { target };
        match cmd.output().await {
            Ok(out) if tool.ok_status(out.status) => match tool.parse(&String::from_utf8_lossy(&out.stdout), dir) {
                Ok(found) => {
                    runs.push(ToolRun { findings: found.len(), ..run(ToolStatus::Ran, None) });
                    results.push((tool, found));
                }
                Err(e) => runs.push(run(ToolStatus::Failed, Some(format!("`{}`: unreadable output: {e}", cmd.display())))),
            },
            Ok(out) => {
                runs.push(run(ToolStatus::Failed, Some(format!("`{}` exited with status {}: {}", cmd.display(), out.status, runner::trim_stderr(&out.stderr)))))
            }
            Err(e) => runs.push(run(ToolStatus::Failed, Some(e.to_string()))),
        }
    }
    (results, runs)
}

/// Merges one tool's findings into ours. A finding with the same resource and
/// Checkov id as one of ours (or one of our suppressed ones) is dropped; ours
/// then says it was also found. Returns the kept findings and the number dropped.
pub fn merge(tool: Tool, ours: &mut [Finding], suppressed: &[Suppressed], theirs: Vec<Finding>) -> (Vec<Finding>, usize) {
    let mut kept = Vec::new();
    let mut dropped = 0;
    let mut seen = BTreeSet::new();
    for f in theirs {
        if !seen.insert((f.rule_id.clone(), f.resource.clone(), f.file.clone(), f.line)) {
            dropped += 1;
            continue;
        }
        let same = |o: &Finding| o.checkov_id.is_some() && o.checkov_id == f.checkov_id && strip_index(&o.resource) == strip_index(&f.resource);
        if let Some(o) = ours.iter_mut().find(|o| same(o)) {
            let note = format!(" Also found by {}.", tool.name());
            if !o.message.contains(&note) {
                o.message.push_str(&note);
            }
            dropped += 1;
        } else if suppressed.iter().any(|s| same(&s.finding)) {
            dropped += 1;
        } else {
            kept.push(f);
        }
    }
    (kept, dropped)
}

fn severity(text: Option<&str>) -> Option<Severity> {
    match text?.to_ascii_uppercase().as_str() {
        "CRITICAL" => Some(Severity::Critical),
        "HIGH" | "ERROR" => Some(Severity::High),
        "MEDIUM" | "WARNING" => Some(Severity::Medium),
        "LOW" => Some(Severity::Low),
        "INFO" | "UNKNOWN" | "NOTE" => Some(Severity::Info),
        _ => None,
    }
}

fn parse_json(text: &str) -> Result<J, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("no output".into());
    }
    serde_json::from_str(trimmed).or_else(|first| crate::tf::decode_json(text.as_bytes()).map_err(|_| first.to_string()))
}

fn s<'a>(v: &'a J, key: &str) -> &'a str {
    v.get(key).and_then(J::as_str).unwrap_or("")
}

/// Checkov `-o json`: one report object, or a list of them (one per framework),
/// or a bare summary when nothing was scanned. Failed checks live in
/// `results.failed_checks[]` with `check_id`, `check_name`, `resource`,
/// `file_path`, `file_line_range`, `severity` (null without a platform key) and `guideline`.
pub fn parse_checkov(text: &str) -> Result<Vec<Finding>, String> {
    let doc = parse_json(text)?;
    let reports: Vec<&J> = match &doc {
        J::Array(items) => items.iter().collect(),
        J::Object(_) => vec![&doc],
        _ => return Err("expected a JSON object or list".into()),
    };
    let mut out = Vec::new();
    for report in reports {
        let failed = report.pointer("/results/failed_checks").and_then(J::as_array).into_iter().flatten();
        for c in failed {
            let id = s(c, "check_id");
            if id.is_empty() {
                continue;
            }
            let ours = security::RULES.iter().find(|r| r.checkov_id == Some(id));
            let line = c.get("file_line_range").and_then(|r| r.get(0)).and_then(J::as_u64).unwrap_or(0) as u32;
            let guideline = s(c, "guideline");
            let title = s(c, "check_name");
            out.push(Finding {
                rule_id: id.to_string(),
                severity: severity(c.get("severity").and_then(J::as_str)).or(ours.map(|r| r.severity)).unwrap_or(Severity::Medium),
                title: title.to_string(),
                checkov_id: Some(id.to_string()),
                resource: s(c, "resource").to_string(),
                file: s(c, "file_path").trim_start_matches('/').to_string(),
                line,
                message: if title.is_empty() { id.to_string() } else { title.to_string() },
                fix: if guideline.is_empty() {
                    ours.map(|r| r.fix.to_string()).unwrap_or_else(|| format!("See Checkov's documentation for {id}."))
                } else {
                    format!("See {guideline}")
                },
                source: Tool::Checkov.name().to_string(),
            });
        }
    }
    Ok(out)
}

/// Trivy `config --format json`: `Results[]` per file (`Target`), each with
/// `Misconfigurations[]` of `ID`, `Title`, `Message`, `Resolution`,
/// `Severity`, `Status` (`FAIL`), `PrimaryURL` and `CauseMetadata {Resource, StartLine}`.
pub fn parse_trivy(text: &str) -> Result<Vec<Finding>, String> {
    let doc = parse_json(text)?;
    let mut out = Vec::new();
    for result in doc.get("Results").and_then(J::as_array).into_iter().flatten() {
        let target = s(result, "Target");
        for m in result.get("Misconfigurations").and_then(J::as_array).into_iter().flatten() {
            if !s(m, "Status").is_empty() && s(m, "Status") != "FAIL" {
                continue;
            }
            let cause = m.get("CauseMetadata").unwrap_or(&J::Null);
            let id = if s(m, "ID").is_empty() { s(m, "AVDID") } else { s(m, "ID") };
            let resource = s(cause, "Resource");
            let resolution = s(m, "Resolution");
            out.push(Finding {
                rule_id: id.to_string(),
                severity: severity(m.get("Severity").and_then(J::as_str)).unwrap_or(Severity::Medium),
                title: s(m, "Title").to_string(),
                checkov_id: None,
                resource: if resource.is_empty() { target.to_string() } else { resource.to_string() },
                file: target.to_string(),
                line: cause.get("StartLine").and_then(J::as_u64).unwrap_or(0) as u32,
                message: if s(m, "Message").is_empty() { s(m, "Title").to_string() } else { s(m, "Message").to_string() },
                fix: if resolution.is_empty() { s(m, "PrimaryURL").to_string() } else { resolution.to_string() },
                source: Tool::Trivy.name().to_string(),
            });
        }
    }
    Ok(out)
}

/// tfsec `--format json`: `results[]` (null when clean) of `rule_id`, `long_id`,
/// `rule_description`, `description`, `resolution`, `severity`, `resource`,
/// `location {filename (absolute), start_line}`.
pub fn parse_tfsec(text: &str, base: &Path) -> Result<Vec<Finding>, String> {
    let doc = parse_json(text)?;
    let mut out = Vec::new();
    for r in doc.get("results").and_then(J::as_array).into_iter().flatten() {
        let location = r.get("location").unwrap_or(&J::Null);
        let filename = s(location, "filename");
        let file = Path::new(filename).strip_prefix(base).map(|p| p.to_string_lossy().into_owned()).unwrap_or_else(|_| filename.to_string());
        let id = if s(r, "rule_id").is_empty() { s(r, "long_id") } else { s(r, "rule_id") };
        out.push(Finding {
            rule_id: id.to_string(),
            severity: severity(r.get("severity").and_then(J::as_str)).unwrap_or(Severity::Medium),
            title: s(r, "rule_description").to_string(),
            checkov_id: None,
            resource: s(r, "resource").to_string(),
            file,
            line: location.get("start_line").and_then(J::as_u64).unwrap_or(0) as u32,
            message: s(r, "description").to_string(),
            fix: s(r, "resolution").to_string(),
            source: Tool::Tfsec.name().to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `checkov -d . -o json --compact` with two frameworks (a list), written
    /// from checkov's `Report.get_dict` / `Record` fields.
    const CHECKOV: &str = r#"[
      {
        "check_type": "terraform",
        "results": {
          "passed_checks": [],
          "failed_checks": [
            {"check_id": "CKV_AWS_18", "bc_check_id": "BC_AWS_S3_13", "check_name": "Ensure the S3 bucket has access logging enabled",
             "check_result": {"result": "FAILED", "evaluated_keys": ["logging"]}, "file_path": "/main.tf", "repo_file_path": "/main.tf",
             "file_line_range": [1, 3], "resource": "aws_s3_bucket.b", "evaluations": null, "check_class": "checkov.terraform.checks.graph_checks",
             "severity": null, "guideline": "https://docs.prismacloud.io/en/enterprise-edition/policy-reference/aws-policies/s3-policies/s3-13-enable-logging"},
            {"check_id": "CKV_AWS_144", "check_name": "Ensure that S3 bucket has cross-region replication enabled",
             "check_result": {"result": "FAILED"}, "file_path": "/main.tf", "file_line_range": [1, 3], "resource": "aws_s3_bucket.b", "severity": "LOW", "guideline": null},
            {"check_id": "CKV_AWS_21", "check_name": "Ensure all data stored in the S3 bucket have versioning enabled",
             "check_result": {"result": "FAILED"}, "file_path": "/main.tf", "file_line_range": [1, 3], "resource": "aws_s3_bucket.b", "severity": null}
          ],
          "skipped_checks": [],
          "parsing_errors": []
        },
        "summary": {"passed": 0, "failed": 3, "skipped": 0, "parsing_errors": 0, "resource_count": 1, "checkov_version": "3.2.0"}
      },
      {"check_type": "secrets", "results": {"passed_checks": [], "failed_checks": [], "skipped_checks": [], "parsing_errors": []}, "summary": {"passed": 0, "failed": 0}}
    ]"#;

    /// `trivy config --format json .` (schema version 2).
    const TRIVY: &str = r#"{
      "SchemaVersion": 2, "ArtifactName": ".", "ArtifactType": "filesystem",
      "Results": [
        {"Target": "main.tf", "Class": "config", "Type": "terraform",
         "MisconfSummary": {"Successes": 3, "Failures": 1},
         "Misconfigurations": [
           {"Type": "Terraform Security Check", "ID": "AVD-AWS-0089", "AVDID": "AVD-AWS-0089", "Title": "S3 Bucket Logging",
            "Description": "Ensures S3 bucket logging is enabled for S3 buckets", "Message": "Bucket has logging disabled",
            "Namespace": "builtin.aws.s3.aws0089", "Resolution": "Add a logging block to the resource to enable access logging",
            "Severity": "LOW", "PrimaryURL": "https://avd.aquasec.com/misconfig/avd-aws-0089", "Status": "FAIL",
            "CauseMetadata": {"Resource": "aws_s3_bucket.b", "Provider": "AWS", "Service": "s3", "StartLine": 1, "EndLine": 3}},
           {"ID": "AVD-AWS-0088", "Title": "Unencrypted S3 bucket", "Severity": "HIGH", "Status": "PASS",
            "CauseMetadata": {"Resource": "aws_s3_bucket.b", "StartLine": 1}}
         ]}
      ]
    }"#;

    /// `tfsec . --format json` (absolute file names).
    const TFSEC: &str = r#"{"results": [
      {"rule_id": "AVD-AWS-0086", "long_id": "aws-s3-block-public-acls", "rule_description": "S3 Access block should block public ACL",
       "rule_provider": "aws", "rule_service": "s3", "impact": "PUT calls with public ACLs specified can make objects public",
       "resolution": "Enable blocking any PUT calls with a public ACL specified", "links": ["https://aquasecurity.github.io/tfsec/latest/checks/aws/s3/block-public-acls/"],
       "description": "No public access block so not blocking public acls", "severity": "HIGH", "warning": false, "status": 0,
       "resource": "aws_s3_bucket.b", "location": {"filename": "/work/infra/main.tf", "start_line": 1, "end_line": 3}}
    ]}"#;

    fn ours(rule: &str, checkov: &str) -> Finding {
        Finding {
            rule_id: rule.into(),
            severity: Severity::Low,
            title: "t".into(),
            checkov_id: Some(checkov.into()),
            resource: "aws_s3_bucket.b".into(),
            file: "main.tf".into(),
            line: 1,
            message: "no logging".into(),
            fix: "f".into(),
            source: security::SOURCE.into(),
        }
    }

    #[test]
    fn checkov_output_maps_and_merges() {
        let found = parse_checkov(CHECKOV).unwrap();
        assert_eq!(found.len(), 3);
        let f = &found[0];
        assert_eq!(
            (f.rule_id.as_str(), f.checkov_id.as_deref(), f.resource.as_str(), f.file.as_str(), f.line),
            ("CKV_AWS_18", Some("CKV_AWS_18"), "aws_s3_bucket.b", "main.tf", 1)
        );
        assert_eq!(f.source, "checkov");
        assert_eq!(f.severity, Severity::Low, "no severity without a platform key: ours for the same Checkov id");
        assert!(f.fix.contains("prismacloud"));
        assert_eq!(found[1].severity, Severity::Low, "checkov's own severity when given");

        let mut mine = vec![ours("FC_S3_004", "CKV_AWS_18")];
        let silenced = vec![Suppressed { finding: ours("FC_S3_003", "CKV_AWS_21"), by: "inline".into(), reason: "scratch".into() }];
        let (kept, dropped) = merge(Tool::Checkov, &mut mine, &silenced, found);
        assert_eq!(dropped, 2, "the duplicate of ours and the duplicate of a suppressed one");
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].rule_id, "CKV_AWS_144");
        assert!(mine[0].message.ends_with("Also found by checkov."), "{}", mine[0].message);
        // A bare summary (nothing scanned) is no findings, not an error.
        assert!(parse_checkov(r#"{"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 0, "resource_count": 0}"#).unwrap().is_empty());
        assert!(parse_checkov("").is_err() && parse_checkov("Traceback (most recent call last):").is_err());
        // Noise around the document (a wrapper's command line before, a cut-off list after) is skipped.
        assert_eq!(parse_checkov(&format!("[command]checkov -d .\n{}", &CHECKOV[CHECKOV.find('{').unwrap()..CHECKOV.rfind(',').unwrap()])).unwrap().len(), 3);
    }

    #[test]
    fn trivy_and_tfsec_output_map() {
        let found = parse_trivy(TRIVY).unwrap();
        assert_eq!(found.len(), 1, "passed checks are not findings");
        let f = &found[0];
        assert_eq!(
            (f.rule_id.as_str(), f.severity, f.resource.as_str(), f.file.as_str(), f.line, f.source.as_str()),
            ("AVD-AWS-0089", Severity::Low, "aws_s3_bucket.b", "main.tf", 1, "trivy")
        );
        assert_eq!(f.checkov_id, None);
        assert!(f.fix.starts_with("Add a logging block"));
        assert!(parse_trivy(r#"{"SchemaVersion": 2, "Results": null}"#).unwrap().is_empty());

        let found = parse_tfsec(TFSEC, Path::new("/work/infra")).unwrap();
        let f = &found[0];
        assert_eq!((f.rule_id.as_str(), f.severity, f.file.as_str(), f.line, f.source.as_str()), ("AVD-AWS-0086", Severity::High, "main.tf", 1, "tfsec"));
        assert!(parse_tfsec(r#"{"results": null}"#, Path::new("/")).unwrap().is_empty());
    }

    #[test]
    fn missing_tools_are_reported_not_fatal() {
        // Whatever is installed here, run_tools answers for all three tools and never errors.
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("main.tf"), "resource \"aws_s3_bucket\" \"b\" {}\n").unwrap();
        if runner::on_path("checkov").is_some() || runner::on_path("trivy").is_some() || runner::on_path("tfsec").is_some() {
            return; // the CLI test covers installed (fake) tools; here only the absent case is checked
        }
        let (found, runs) = rt.block_on(run_tools(dir.path(), false));
        assert!(found.is_empty());
        assert_eq!(runs.iter().map(|r| r.tool).collect::<Vec<_>>(), [Tool::Checkov, Tool::Trivy, Tool::Tfsec]);
        assert!(runs.iter().all(|r| r.status == ToolStatus::NotInstalled));
    }
}
