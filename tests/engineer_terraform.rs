//! Generated Terraform against the real `terraform` binary: every catalog
//! component alone, and a multi-component design, must pass
//! `terraform init -backend=false`, `terraform validate`, and `terraform fmt -check`.

mod support;

use std::path::Path;

use faber_cloud::config::{Config, InitOptions};
use faber_cloud::infra::design::{ComponentKind, DesignSpec};
use faber_cloud::infra::engineer;
use faber_cloud::infra::scan::Severity;
use faber_cloud::infra::scan::security::{self, ScanOptions};
use faber_cloud::infra::tf;
use faber_cloud::workspace::Workspace;
use serde_json::json;
use support::terraform::Terraform;

fn project(endpoint: bool) -> (tempfile::TempDir, Workspace, Config) {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::at(dir.path().join("demo-app"));
    let opts = InitOptions { endpoint_url: endpoint.then(|| "http://127.0.0.1:5000".to_string()), ..Default::default() };
    let config = Config::init(&ws, &opts).unwrap();
    (dir, ws, config)
}

/// A design holding `kind` plus what it needs (a Lambda for an API or a schedule).
fn design_for(kind: ComponentKind) -> DesignSpec {
    let mut components = vec![json!({"type": kind.as_str(), "name": "main"})];
    if matches!(kind, ComponentKind::HttpApi | ComponentKind::Schedule) {
        components[0]["settings"] = json!({"lambda": "handler"});
        components.push(json!({"type": "lambda_function", "name": "handler"}));
    }
    DesignSpec::parse(&json!({"version": 1, "feature": format!("one {}", kind.as_str()), "components": components}).to_string()).unwrap()
}

/// Our own scanner finds nothing CRITICAL or HIGH in generated code, in any environment.
fn scan_clean(dir: &Path, what: &str) {
    for env in ["test", "prod"] {
        let module = tf::load_dir(dir, Some(&dir.join(format!("{env}.tfvars")))).unwrap();
        let result = security::scan(&module, &ScanOptions::default());
        let serious: Vec<String> = result
            .findings
            .iter()
            .filter(|f| f.severity >= Severity::High)
            .map(|f| format!("{} {} {}: {}", f.severity.as_str(), f.rule_id, f.resource, f.message))
            .collect();
        assert!(serious.is_empty(), "{what} ({env}): generated code has serious findings:\n{}", serious.join("\n"));
    }
}

fn validate(tf: &Terraform, dir: &Path, what: &str) {
    scan_clean(dir, what);
    let (code, out, err) = tf.run(dir, &["init", "-backend=false", "-input=false", "-no-color"]);
    assert_eq!(code, 0, "{what}: terraform init failed\n{out}\n{err}");
    let (code, out, err) = tf.run(dir, &["validate", "-json", "-no-color"]);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{what}: validate -json output ({e}): {out}\n{err}"));
    assert_eq!(report["valid"], true, "{what}: terraform validate found problems:\n{}", serde_json::to_string_pretty(&report["diagnostics"]).unwrap());
    assert_eq!(code, 0, "{what}");
    let (code, out, _) = tf.run(dir, &["fmt", "-check", "-diff", "-no-color"]);
    assert_eq!(code, 0, "{what}: generated files are not terraform fmt-clean:\n{out}");
}

#[test]
fn every_catalog_component_validates() {
    let tf = Terraform::get();
    for kind in ComponentKind::ALL {
        let (_keep, ws, config) = project(kind == ComponentKind::S3Bucket);
        let report = engineer::write(&ws, &config, "one", &design_for(kind), false).unwrap_or_else(|e| panic!("{}: {e}", kind.as_str()));
        validate(&tf, &report.directory, kind.as_str());
    }
}

#[test]
fn a_multi_component_design_validates_with_local_endpoints() {
    let tf = Terraform::get();
    let (_keep, ws, config) = project(true);
    let spec = DesignSpec::parse(
        &json!({"version": 1, "feature": "API service with user uploads and authentication", "components": [
            {"type": "kms_key", "name": "data"},
            {"type": "s3_bucket", "name": "uploads", "settings": {"kms_key": "data"}},
            {"type": "lambda_function", "name": "api", "settings": {"memory_mb": 512}},
            {"type": "http_api", "name": "api-gw", "settings": {"lambda": "api", "cors_origins": ["https://example.com"]}},
            {"type": "dynamodb_table", "name": "items", "settings": {"kms_key": "data"}},
            {"type": "rds_postgres", "name": "db"},
            {"type": "sqs_queue", "name": "jobs"},
            {"type": "sns_topic", "name": "alerts"},
            {"type": "cognito_user_pool", "name": "users", "settings": {"callback_urls": ["https://example.com/callback"]}},
            {"type": "static_site", "name": "web"},
            {"type": "schedule", "name": "nightly", "settings": {"lambda": "api", "expression": "cron(0 3 * * ? *)"}},
            {"type": "secret", "name": "stripe", "settings": {"kms_key": "data"}}
        ]})
        .to_string(),
    )
    .unwrap();
    let report = engineer::write(&ws, &config, "api-service", &spec, false).unwrap();
    let names: Vec<&str> = report.files.iter().map(|f| f.file.as_str()).collect();
    assert_eq!(names, ["main.tf", "outputs.tf", "prod.s3.tfbackend", "prod.tfvars", "test.s3.tfbackend", "test.tfvars", "variables.tf", "src/api/index.py"]);
    // The function's starter code is the user's from now on: a second run leaves it alone.
    let starter = report.directory.join("src/api/index.py");
    std::fs::write(&starter, "def handler(e, c):\n    return 'mine'\n").unwrap();
    let again = engineer::write(&ws, &config, "api-service", &spec, false).unwrap();
    assert!(again.files.iter().all(|f| f.file != "src/api/index.py"));
    assert!(std::fs::read_to_string(&starter).unwrap().contains("mine"));
    let main = std::fs::read_to_string(report.directory.join("main.tf")).unwrap();
    for needle in ["endpoints {", "skip_credentials_validation = true", "default_tags {", "ManagedBy", "backend \"s3\""] {
        assert!(main.contains(needle), "main.tf lacks {needle}");
    }
    validate(&tf, &report.directory, "multi-component design");
}

#[test]
fn human_edits_are_never_clobbered() {
    let (_keep, ws, config) = project(false);
    let spec = design_for(ComponentKind::SqsQueue);
    let report = engineer::write(&ws, &config, "one", &spec, false).unwrap();
    assert!(report.files.iter().all(|f| f.status == "created"));
    let again = engineer::write(&ws, &config, "one", &spec, false).unwrap();
    assert!(again.files.iter().all(|f| f.status == "unchanged"));
    let main = report.directory.join("main.tf");
    let edited = std::fs::read_to_string(&main).unwrap() + "\n# my change\n";
    std::fs::write(&main, &edited).unwrap();
    let other = design_for(ComponentKind::SnsTopic);
    let err = engineer::write(&ws, &config, "two", &other, false).unwrap_err().to_string();
    assert!(err.contains("main.tf (edited since it was generated)") && err.contains("force"), "{err}");
    assert_eq!(std::fs::read_to_string(&main).unwrap(), edited, "nothing written on refusal");
    assert!(!std::fs::read_to_string(report.directory.join("outputs.tf")).unwrap().contains("topic_arn"), "no file written on refusal");
    let forced = engineer::write(&ws, &config, "two", &other, true).unwrap();
    assert!(forced.files.iter().any(|f| f.file == "main.tf" && f.status == "updated"));
    // A hand-written file of the same name is not ours either.
    std::fs::write(report.directory.join("variables.tf"), "variable \"mine\" {}\n").unwrap();
    std::fs::remove_file(report.directory.join(engineer::MANIFEST)).unwrap();
    let err = engineer::write(&ws, &config, "two", &other, false).unwrap_err().to_string();
    assert!(err.contains("not written by faber-cloud"), "{err}");
}
