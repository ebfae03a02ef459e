//! `faber-cloud scan` as CI uses it: exit codes, file:line, the three output
//! formats, plan input, bad input, and optional external scanners (faked by
//! scripts on PATH that print recorded output, so no real tool is needed).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn faber(dir: &Path, args: &[&str], path_prefix: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_faber-cloud"));
    cmd.current_dir(dir).args(args).env_remove("CLAUDE_PROJECT_DIR").env_remove("CLAUDE_PLUGIN_ROOT");
    if let Some(bin) = path_prefix {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let joined = std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(std::env::split_paths(&path))).unwrap();
        cmd.env("PATH", joined);
    }
    cmd.output().expect("run faber-cloud")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}\nstderr: {}", stdout(out), stderr(out)))
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scan").join(name)
}

/// Copies a fixture tree into a fresh temp dir as `<tmp>/infra`.
fn tree(name: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let infra = tmp.path().join("infra");
    std::fs::create_dir(&infra).unwrap();
    for entry in std::fs::read_dir(fixture(name)).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, infra.join(path.file_name().unwrap())).unwrap();
    }
    tmp
}

/// 1-based line of the first line containing `needle` in a fixture file.
fn line_of(file: &Path, needle: &str) -> usize {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle} not in {}", file.display())) + 1
}

#[test]
fn vulnerable_tree_fails_with_findings_at_the_right_lines() {
    let tmp = tree("vulnerable");
    let out = faber(tmp.path(), &["scan", "infra", "--no-external"], None);
    assert_eq!(out.status.code(), Some(1), "{}{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    let main = tmp.path().join("infra/main.tf");
    let ssh = format!(
        "HIGH     FC_NET_001 infra/main.tf:{} aws_security_group.ssh — Security group allows SSH (22) from the internet (CKV_AWS_24)",
        line_of(&main, "ingress {")
    );
    assert!(text.contains(&ssh), "{ssh}\nnot in:\n{text}");
    assert!(text.contains(&format!("FC_RDS_003 infra/main.tf:{} aws_db_instance.db", line_of(&main, "publicly_accessible"))), "{text}");
    assert!(text.contains(&format!("FC_S3_005 infra/main.tf:{} aws_s3_bucket.uploads", line_of(&main, "public-read"))), "{text}");
    assert!(text.contains("CRITICAL FC_IAM_001 infra/iam.tf:3 aws_iam_policy.admin"), "{text}");
    let summary = text.lines().last().unwrap();
    assert!(summary.contains("1 critical") && summary.contains("1 suppressed") && summary.contains("in 2 file(s)"), "{summary}");
    assert!(!text.contains("FC_LOG_002"), "suppressed inline");
    // Severity threshold: with only the critical one counting, still 1; nothing reaches a threshold above it.
    assert_eq!(faber(tmp.path(), &["scan", "infra", "--no-external", "--fail-on", "critical"], None).status.code(), Some(1));
}

#[test]
fn clean_tree_passes_even_at_the_lowest_threshold() {
    let tmp = tree("clean");
    let out = faber(tmp.path(), &["scan", "infra", "--no-external", "--fail-on", "info"], None);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).starts_with("0 finding(s)"), "{}", stdout(&out));
}

#[test]
fn fail_on_sets_the_threshold() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("logs.tf"), "resource \"aws_cloudwatch_log_group\" \"g\" {\n  name = \"/app\"\n}\n").unwrap();
    // FC_LOG_001 is MEDIUM, FC_LOG_002 LOW.
    assert_eq!(faber(tmp.path(), &["scan", ".", "--no-external"], None).status.code(), Some(0), "default threshold is high");
    assert_eq!(faber(tmp.path(), &["scan", ".", "--no-external", "--fail-on", "medium"], None).status.code(), Some(1));
    assert_eq!(faber(tmp.path(), &["scan", ".", "--no-external", "--fail-on", "bogus"], None).status.code(), Some(2));
}

#[test]
fn json_format_is_the_report() {
    let tmp = tree("vulnerable");
    let out = faber(tmp.path(), &["scan", "infra", "--format", "json", "--no-external"], None);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    assert_eq!(report["input"], "directory");
    assert!(report["rules_run"].as_u64().unwrap() >= 40);
    assert_eq!(report["counts"]["critical"], 1);
    let findings = report["findings"].as_array().unwrap();
    let ssh = findings.iter().find(|f| f["rule_id"] == "FC_NET_001").unwrap();
    assert_eq!(ssh["severity"], "HIGH");
    assert_eq!(ssh["checkov_id"], "CKV_AWS_24");
    assert_eq!(ssh["file"], "main.tf");
    assert_eq!(ssh["line"], line_of(&tmp.path().join("infra/main.tf"), "ingress {") as u64);
    assert_eq!(ssh["source"], "faber-cloud");
    assert!(ssh["message"].as_str().unwrap().contains("0.0.0.0/0"));
    let suppressed = &report["suppressed"][0];
    assert_eq!((suppressed["rule_id"].as_str(), suppressed["by"].as_str()), (Some("FC_LOG_002"), Some("inline")));
    // The global --json flag means the same as --format json.
    assert_eq!(json(&faber(tmp.path(), &["--json", "scan", "infra", "--no-external"], None))["findings"], report["findings"]);
}

#[test]
fn sarif_format_is_sarif_2_1_0() {
    let tmp = tree("vulnerable");
    let out = faber(tmp.path(), &["scan", "infra", "--format", "sarif", "--no-external"], None);
    assert_eq!(out.status.code(), Some(1));
    let log = json(&out);
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().contains("sarif"));
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "faber-cloud");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        let loc = &r["locations"][0]["physicalLocation"];
        assert!(loc["artifactLocation"]["uri"].as_str().unwrap().starts_with("infra/"), "{loc}");
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
    }
    assert!(results.iter().any(|r| r["suppressions"][0]["kind"] == "inSource"), "suppressed findings are kept, marked");
}

#[test]
fn plan_json_input() {
    let plan =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/terraform/plans/10-medium-terragoat-55res-rds-s3-iam-lambda-kms.tf0.12.23.json");
    assert!(plan.is_file(), "the shared fixtures are missing at {}", plan.display());
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(&plan, tmp.path().join("plan.json")).unwrap();
    let out = faber(tmp.path(), &["scan", "plan.json", "--format", "json", "--no-external"], None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["input"], "plan");
    let has = |rule: &str, resource: &str| report["findings"].as_array().unwrap().iter().any(|f| f["rule_id"] == rule && f["resource"] == resource);
    assert!(has("FC_RDS_003", "aws_db_instance.default") && has("FC_S3_005", "aws_s3_bucket.data") && has("FC_NET_001", "aws_security_group.web-node"));
    let text = stdout(&faber(tmp.path(), &["scan", "plan.json", "--no-external"], None));
    assert!(text.contains("FC_RDS_003 plan.json aws_db_instance.default"), "no :0 for plan input:\n{text}");
}

#[test]
fn syntax_error_is_bad_input_naming_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("ok.tf"), "resource \"aws_s3_bucket\" \"a\" {}\n").unwrap();
    std::fs::write(tmp.path().join("broken.tf"), "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \n}\n").unwrap();
    let out = faber(tmp.path(), &["scan", "."], None);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("broken.tf:2:") || err.contains("broken.tf:3:"), "{err}");
    let out = faber(tmp.path(), &["scan", ".", "--format", "json"], None);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json(&out)["error"]["kind"], "bad_input");
}

#[test]
fn missing_or_unusable_path_is_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let out = faber(tmp.path(), &["scan", "does-not-exist"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("does-not-exist"), "{}", stderr(&out));
    std::fs::write(tmp.path().join("notes.txt"), "hello").unwrap();
    assert_eq!(faber(tmp.path(), &["scan", "notes.txt"], None).status.code(), Some(2));
    std::fs::write(tmp.path().join("bad.json"), "{\"not\": \"a plan\"}").unwrap();
    assert_eq!(faber(tmp.path(), &["scan", "bad.json"], None).status.code(), Some(2));
    std::fs::create_dir(tmp.path().join("empty")).unwrap();
    assert_eq!(faber(tmp.path(), &["scan", "empty"], None).status.code(), Some(2));
}

/// A recorded `checkov -o json` answer for the vulnerable tree: one check ours
/// also makes (CKV_AWS_20 on the uploads bucket) and one we do not make.
const CHECKOV_OUTPUT: &str = r#"{"check_type": "terraform", "results": {"passed_checks": [], "failed_checks": [
  {"check_id": "CKV_AWS_20", "check_name": "S3 Bucket has an ACL defined which allows public READ access.", "check_result": {"result": "FAILED"},
   "file_path": "/main.tf", "file_line_range": [11, 14], "resource": "aws_s3_bucket.uploads", "severity": null, "guideline": null},
  {"check_id": "CKV_AWS_143", "check_name": "Ensure that S3 bucket has lock configuration enabled by default", "check_result": {"result": "FAILED"},
   "file_path": "/main.tf", "file_line_range": [11, 14], "resource": "aws_s3_bucket.uploads", "severity": null, "guideline": null}
 ], "skipped_checks": [], "parsing_errors": []}, "summary": {"passed": 0, "failed": 2, "skipped": 0, "parsing_errors": 0}}"#;

#[cfg(unix)]
fn fake_tool(bin: &Path, name: &str, script: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = bin.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(unix)]
#[test]
fn installed_external_tools_are_merged_and_failures_are_notes() {
    let tmp = tree("vulnerable");
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::fs::write(tmp.path().join("checkov.json"), CHECKOV_OUTPUT).unwrap();
    // checkov exits 1 when it finds something; trivy here breaks (no database offline).
    fake_tool(&bin, "checkov", &format!("cat '{}'\nexit 1", tmp.path().join("checkov.json").display()));
    fake_tool(&bin, "trivy", "echo 'FATAL failed to download vulnerability DB' >&2\nexit 2");
    let out = faber(tmp.path(), &["scan", "infra", "--format", "json"], Some(&bin));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json(&out);
    let findings = report["findings"].as_array().unwrap();
    let theirs: Vec<&Value> = findings.iter().filter(|f| f["source"] == "checkov").collect();
    assert_eq!(theirs.len(), 1, "the duplicate of FC_S3_005 is dropped: {theirs:?}");
    assert_eq!(theirs[0]["rule_id"], "CKV_AWS_143");
    assert_eq!(theirs[0]["file"], "main.tf");
    let ours = findings.iter().find(|f| f["rule_id"] == "FC_S3_005").unwrap();
    assert!(ours["message"].as_str().unwrap().contains("Also found by checkov"), "{ours}");
    let runs = report["external"].as_array().unwrap();
    let status = |tool: &str| runs.iter().find(|r| r["tool"] == tool).map(|r| r["status"].clone()).unwrap();
    assert_eq!(status("checkov"), "ran");
    assert_eq!(status("trivy"), "failed");
    assert_eq!(status("tfsec"), "not_installed");
    let trivy = runs.iter().find(|r| r["tool"] == "trivy").unwrap();
    assert!(trivy["note"].as_str().unwrap().contains("failed to download"), "{trivy}");
    // The text format names the tool of a merged finding.
    let text = stdout(&faber(tmp.path(), &["scan", "infra"], Some(&bin)));
    assert!(text.contains("CKV_AWS_143") && text.contains("[checkov]") && text.contains("trivy: `trivy config"), "{text}");
    // --no-external runs nothing.
    let report = json(&faber(tmp.path(), &["scan", "infra", "--format", "json", "--no-external"], Some(&bin)));
    assert!(report["external"].as_array().unwrap().is_empty());
}

#[test]
fn suppressions_in_devops_json_apply() {
    let tmp = tree("vulnerable");
    let init = faber(tmp.path(), &["config", "init", "--provider", "aws", "--iac", "terraform"], None);
    assert_eq!(init.status.code(), Some(0), "{}", stderr(&init));
    let config_path = tmp.path().join(".fractary/plugins/faber-cloud/devops.json");
    let mut config: Value = serde_json::from_str(&std::fs::read_to_string(&config_path).unwrap()).unwrap();
    config["scan"] = serde_json::json!({ "suppress": [
        { "rule": "FC_NET_001", "resource": "aws_security_group.ssh", "reason": "bastion host, reviewed" },
        { "rule": "CKV_AWS_17", "reason": "demo database" }
    ] });
    std::fs::write(&config_path, serde_json::to_string_pretty(&config).unwrap()).unwrap();
    let report = json(&faber(tmp.path(), &["scan", "infra", "--format", "json", "--no-external"], None));
    let ids: Vec<&str> = report["findings"].as_array().unwrap().iter().map(|f| f["rule_id"].as_str().unwrap()).collect();
    assert!(!ids.contains(&"FC_NET_001") && !ids.contains(&"FC_RDS_003"), "{ids:?}");
    let by_config: Vec<&Value> = report["suppressed"].as_array().unwrap().iter().filter(|s| s["by"] == "config").collect();
    assert_eq!(by_config.len(), 2, "{by_config:?}");
    assert!(by_config.iter().any(|s| s["reason"] == "bastion host, reviewed"));
    // A broken devops.json is bad input, not an ignored file.
    std::fs::write(&config_path, "{").unwrap();
    assert_eq!(faber(tmp.path(), &["scan", "infra", "--no-external"], None).status.code(), Some(2));
}
