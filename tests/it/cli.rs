//! The CLI as scripts and CI use it: exit codes, both flag spellings, `--json`.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn cli(project: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faber-cloud"))
        .arg("--project-dir")
        .arg(project)
        .args(args)
        .env("FABER_CLOUD_SELFTEST", "1")
        .env_remove("CLAUDE_PROJECT_DIR")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .output()
        .expect("run faber-cloud")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn init(project: &Path) {
    let out = cli(project, &["config", "init", "--provider", "aws", "--iac", "terraform"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    // 2: bad input, also before any configuration exists.
    assert_eq!(cli(p, &["infra", "explode"]).status.code(), Some(2));
    assert_eq!(cli(p, &["infra", "deploy"]).status.code(), Some(2), "no devops.json yet");
    init(p);
    assert_eq!(cli(p, &["config", "init"]).status.code(), Some(2), "refuses to overwrite");
    assert_eq!(cli(p, &["infra", "deploy", "--env", "staging"]).status.code(), Some(2));
    assert_eq!(cli(p, &["ops", "remediate", "--env", "prod"]).status.code(), Some(2), "action missing");
    // 1: the operation did not run. A deploy whose profile does not exist stops before anything runs, naming the profile.
    let out = cli(p, &["infra", "deploy", "--env", "test"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("-test-deploy\" for test is not in the shared AWS files"), "{err}");
    // 0: success; 3: waiting for a human.
    assert_eq!(cli(p, &["director", "deploy to prod", "--route-only"]).status.code(), Some(0));
    assert_eq!(cli(p, &["director", "check my infrastructure"]).status.code(), Some(3));
    let pending = cli(p, &["--json", "gate-selftest", "--env", "prod", "--payload", "x"]);
    assert_eq!(pending.status.code(), Some(3));
    let id = json(&pending)["operation_id"].as_str().unwrap().to_string();
    let second = cli(p, &["confirm", &id, "yes"]);
    assert_eq!(second.status.code(), Some(3), "second confirmation still needed");
    // The text names the final step's own id and the command that answers it.
    let text = String::from_utf8_lossy(&second.stdout).to_string();
    let command = text.lines().find_map(|l| l.split("CLI: ").nth(1)).unwrap_or_else(|| panic!("no CLI command in {text}"));
    let final_id = command.split_whitespace().nth(2).unwrap().to_string();
    assert!(final_id != id && command.starts_with(&format!("faber-cloud confirm {final_id} ")), "{text}");
    assert_eq!(cli(p, &["confirm", &id, "yes"]).status.code(), Some(1), "a repeated first answer is refused");
    assert_eq!(cli(p, &["confirm", &final_id, "yes"]).status.code(), Some(0));
    assert_eq!(cli(p, &["confirm", &final_id, "yes"]).status.code(), Some(1), "single use");
    assert_eq!(cli(p, &["confirm", "not-an-id", "yes"]).status.code(), Some(2));
    let pending = cli(p, &["--json", "gate-selftest", "--env", "test", "--payload", "y"]);
    let id = json(&pending)["operation_id"].as_str().unwrap().to_string();
    assert_eq!(cli(p, &["confirm", &id, "nope"]).status.code(), Some(1), "cancelled: not executed");
}

#[test]
fn both_flag_spellings_and_json_output() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    init(p);
    let a = json(&cli(p, &["--json", "director", "show me error logs from API Lambda", "--env", "prod", "--route-only"]));
    let b = json(&cli(p, &["director", "show me error logs from API Lambda", "--env=prod", "--route-only", "--json"]));
    assert_eq!(a, b);
    assert_eq!(a["status"], "routed");
    assert_eq!(a["routed"]["env"], "prod");
    assert_eq!(a["routed"]["env_source"], "explicit");
    assert_eq!(a["routed"]["args"]["service"], "api-lambda");
    assert_eq!(a["routed"]["args"]["filter"], "ERROR");
    let err = cli(p, &["--json", "ops", "query-logs", "--timeframe=yesterday"]);
    assert_eq!(err.status.code(), Some(2));
    let body = json(&err);
    assert_eq!(body["status"], "error");
    assert_eq!(body["error"]["field"], "timeframe");
    // A clarification answered by number through the CLI.
    let ask = json(&cli(p, &["--json", "director", "check my infrastructure"]));
    let id = ask["clarification_id"].as_str().unwrap();
    let answer = json(&cli(p, &["--json", "director", "3", "--clarification-id", id, "--route-only"]));
    assert_eq!(answer["routed"]["operation"], "show-resources");
}

#[test]
fn project_dir_comes_from_claude_project_dir() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_faber-cloud"))
        .args(["config", "init"])
        .env("CLAUDE_PROJECT_DIR", dir.path())
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.path().join(".fractary/plugins/faber-cloud/devops.json").exists());
    // The plugin's install directory is never taken for the project.
    let out = Command::new(env!("CARGO_BIN_EXE_faber-cloud"))
        .args(["config", "show"])
        .env_remove("CLAUDE_PROJECT_DIR")
        .env("CLAUDE_PLUGIN_ROOT", dir.path())
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("CLAUDE_PLUGIN_ROOT"));
}

/// A project whose Terraform folder holds only `main_tf`.
fn terraform_project(main_tf: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    std::fs::create_dir_all(dir.path().join("infrastructure/terraform")).unwrap();
    std::fs::write(dir.path().join("infrastructure/terraform/main.tf"), main_tf).unwrap();
    dir
}

/// `faber-cloud --json ARGS` in `project`, with the machine's terraform mirror and `path` as PATH.
fn with_terraform(project: &Path, args: &[&str], path: &std::ffi::OsStr) -> Output {
    let tf = crate::support::terraform::Terraform::get();
    Command::new(env!("CARGO_BIN_EXE_faber-cloud"))
        .args(["--project-dir", project.to_str().unwrap(), "--json"])
        .args(args)
        .env_remove("CLAUDE_PROJECT_DIR")
        .env("TF_CLI_CONFIG_FILE", &tf.cli_config)
        .env("PATH", path)
        .output()
        .unwrap()
}

/// A configuration terraform cannot even initialise (the 0.11 form `type = "string"`) is invalid, with
/// terraform's error at its file and line, never "Valid".
#[test]
fn a_configuration_terraform_init_refuses_is_invalid() {
    let dir = terraform_project("variable \"x\" {\n  type = \"string\"\n}\n");
    let out = with_terraform(dir.path(), &["infra", "validate-config", "--env", "test"], &std::env::var_os("PATH").unwrap());
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let body = json(&out);
    assert_eq!(body["error"]["kind"], "invalid");
    let report = &body["error"]["report"];
    assert_eq!(report["valid"], false);
    let init = report["diagnostics"].as_array().unwrap().iter().find(|d| d["rule_id"] == "TF_INIT").expect("a TF_INIT finding");
    assert_eq!((init["file"].as_str(), init["line"].as_u64()), (Some("main.tf"), Some(2)), "{init}");
    assert!(init["title"].as_str().unwrap().contains("Invalid quoted type constraints"), "{init}");
}

/// Validation that could not run is unverified (exit 1, the reason stated), never "Valid": a provider
/// terraform cannot install from the mirror, and terraform missing from PATH. `infra test` then FAILs, exit 1.
#[test]
fn validation_that_could_not_run_is_unverified() {
    let dir = terraform_project("terraform {\n  required_providers {\n    nowhere = { source = \"example.invalid/acme/nowhere\" }\n  }\n}\n");
    let run = |args: &[&str], path: &std::ffi::OsStr| with_terraform(dir.path(), args, path);
    let path = std::env::var_os("PATH").unwrap();
    let empty_path = tempfile::tempdir().unwrap();
    for path in [path.as_os_str(), empty_path.path().as_os_str()] {
        let out = run(&["infra", "validate-config", "--env", "test"], path);
        assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
        let report = &json(&out)["error"]["report"];
        assert_eq!((report["valid"].as_bool(), report["verdict"].as_str()), (Some(false), Some("unverified")), "{report}");
        let out = run(&["infra", "test", "--env", "test"], path);
        assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
        let report = &json(&out)["error"]["report"];
        assert_eq!(report["overall_status"], "FAIL", "{report}");
        assert_eq!(report["tests"][0]["status"], "FAIL", "{report}");
    }
}

/// An AWS endpoint that is not there is named in a sentence a person can act on, not SDK debug text.
#[test]
fn an_unreachable_endpoint_is_named_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let out = cli(p, &["config", "init", "--endpoint-url", "http://127.0.0.1:9"]);
    assert_eq!(out.status.code(), Some(0));
    let out = Command::new(env!("CARGO_BIN_EXE_faber-cloud"))
        .args(["--project-dir", p.to_str().unwrap(), "ops", "check-health", "--env", "test"])
        .env_remove("CLAUDE_PROJECT_DIR")
        .env("AWS_MAX_ATTEMPTS", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot reach the AWS endpoint http://127.0.0.1:9") && err.contains("is it running"), "{err}");
    assert!(!err.contains("DispatchFailure") && !err.contains("ServiceError {"), "{err}");
}
