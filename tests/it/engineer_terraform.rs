//! Generated Terraform against the real `terraform` binary: every catalog
//! component alone, and a multi-component design, must pass
//! `terraform init -backend=false`, `terraform validate`, and `terraform fmt -check`.

use std::path::Path;

use crate::support::terraform::Terraform;
use faber_cloud::config::{Config, InitOptions};
use faber_cloud::infra::design::{ComponentKind, DesignSpec};
use faber_cloud::infra::engineer;
use faber_cloud::scan::Severity;
use faber_cloud::scan::security::{self, ScanOptions};
use faber_cloud::tf;
use faber_cloud::workspace::Workspace;
use serde_json::json;

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

/// One root that calls every generated directory as a module, so one `terraform init` and one
/// `terraform validate` (each loads the ~500 MB provider) cover them all. Every module gets the
/// values of its own `test.tfvars`; a diagnostic names the module's directory, hence the component.
fn validate_all(tf: &Terraform, base: &Path, dirs: &[(String, std::path::PathBuf)]) {
    let root = base.join("root");
    std::fs::create_dir_all(&root).unwrap();
    let mut main = hcl::Body::builder();
    for (what, dir) in dirs {
        scan_clean(dir, what);
        let vars: hcl::Map<String, hcl::Value> = hcl::from_str(&std::fs::read_to_string(dir.join("test.tfvars")).unwrap()).unwrap();
        let source = format!("../{}", dir.strip_prefix(base).unwrap().display());
        let mut module = hcl::Block::builder("module").add_label(what.as_str()).add_attribute(("source", source));
        for (k, v) in vars {
            module = module.add_attribute((k, v));
        }
        main = main.add_block(module.build());
    }
    std::fs::write(root.join("main.tf"), hcl::to_string(&main.build()).unwrap()).unwrap();
    let (code, out, err) = tf.run(&root, &["init", "-backend=false", "-input=false", "-no-color"]);
    assert_eq!(code, 0, "terraform init failed\n{out}\n{err}");
    let (code, out, err) = tf.run(&root, &["validate", "-json", "-no-color"]);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("validate -json output ({e}): {out}\n{err}"));
    let errors: Vec<&serde_json::Value> = report["diagnostics"].as_array().into_iter().flatten().filter(|d| d["severity"] == "error").collect();
    assert!(errors.is_empty() && report["valid"] == true, "terraform validate found problems:\n{}", serde_json::to_string_pretty(&errors).unwrap());
    assert_eq!(code, 0);
    // With endpoint_url, engineer points every endpoint key of this provider at the local server.
    let (code, out, err) = tf.run(&root, &["providers", "schema", "-json"]);
    assert_eq!(code, 0, "terraform providers schema failed\n{err}");
    let schema: serde_json::Value = serde_json::from_str(&out).unwrap();
    let aws = schema["provider_schemas"].as_object().unwrap().iter().find(|(k, _)| k.ends_with("/aws")).map(|(_, v)| v).unwrap();
    let mut keys: Vec<&str> =
        aws["provider"]["block"]["block_types"]["endpoints"]["block"]["attributes"].as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, faber_cloud::infra::endpoints::PROVIDER_ENDPOINTS, "regenerate src/infra/endpoints.rs from this provider's schema");
    for (what, dir) in dirs {
        let (code, out, _) = tf.run(dir, &["fmt", "-check", "-diff", "-no-color"]);
        assert_eq!(code, 0, "{what}: generated files are not terraform fmt-clean:\n{out}");
    }
}

/// Every catalog component alone, and a design with all of them, validate with the real terraform.
#[test]
fn every_catalog_component_and_a_multi_component_design_validate() {
    let tf = Terraform::get();
    let base = tempfile::tempdir().unwrap();
    let mut dirs = Vec::new();
    for kind in ComponentKind::ALL {
        let ws = Workspace::at(base.path().join(kind.as_str()).join("demo-app"));
        let opts = InitOptions { endpoint_url: (kind == ComponentKind::S3Bucket).then(|| "http://127.0.0.1:5000".to_string()), ..Default::default() };
        let config = Config::init(&ws, &opts).unwrap();
        let report = engineer::write(&ws, &config, "one", &design_for(kind), None).unwrap_or_else(|e| panic!("{}: {e}", kind.as_str()));
        dirs.push((kind.as_str().to_string(), report.directory));
    }
    dirs.push(("multi_component".to_string(), multi_component_design(base.path())));
    validate_all(&tf, base.path(), &dirs);
}

/// A design with every kind of component and a local endpoint; checks what engineer writes, and returns its directory.
fn multi_component_design(base: &Path) -> std::path::PathBuf {
    let ws = Workspace::at(base.join("multi").join("demo-app"));
    let config = Config::init(&ws, &InitOptions { endpoint_url: Some("http://127.0.0.1:5000".to_string()), ..Default::default() }).unwrap();
    let spec = DesignSpec::parse(
        &json!({"version": 1, "feature": "API service with user uploads and authentication", "components": [
            {"type": "kms_key", "name": "data"},
            {"type": "s3_bucket", "name": "uploads", "settings": {"kms_key": "data"}},
            {"type": "lambda_function", "name": "api", "settings": {"memory_mb": 512, "reads": ["items", "uploads", "jobs"], "writes": ["jobs"]}},
            {"type": "http_api", "name": "api-gw", "settings": {"lambda": "api", "cors_origins": ["https://example.com"]}},
            {"type": "dynamodb_table", "name": "items", "settings": {"kms_key": "data"}},
            {"type": "rds_postgres", "name": "db"},
            {"type": "sqs_queue", "name": "jobs"},
            {"type": "sns_topic", "name": "alerts"},
            {"type": "cognito_user_pool", "name": "users", "settings": {"callback_urls": ["https://example.com/callback"]}},
            {"type": "static_site", "name": "web"},
            {"type": "schedule", "name": "nightly", "settings": {"lambda": "api", "expression": "cron(0 3 * * ? *)"}},
            {"type": "secret", "name": "stripe", "settings": {"kms_key": "data"}},
            {"type": "lambda_function", "name": "worker", "settings": {
                "reads": ["stripe"], "writes": ["items", "alerts", "uploads"], "triggered_by": ["uploads", "jobs"]}}
        ]})
        .to_string(),
    )
    .unwrap();
    let report = engineer::write(&ws, &config, "api-service", &spec, None).unwrap();
    let names: Vec<&str> = report.files.iter().map(|f| f.file.as_str()).collect();
    assert_eq!(
        names,
        [
            "main.tf",
            "outputs.tf",
            "prod.s3.tfbackend",
            "prod.tfvars",
            "test.s3.tfbackend",
            "test.tfvars",
            "variables.tf",
            "src/api/index.py",
            "src/worker/index.py"
        ]
    );
    // The function's starter code is the user's from now on: a second run leaves it alone.
    let starter = report.directory.join("src/api/index.py");
    std::fs::write(&starter, "def handler(e, c):\n    return 'mine'\n").unwrap();
    let again = engineer::write(&ws, &config, "api-service", &spec, None).unwrap();
    assert!(again.files.iter().all(|f| f.file != "src/api/index.py"));
    assert!(std::fs::read_to_string(&starter).unwrap().contains("mine"));
    // No lock files in the person's Terraform folder (they live under .fractary/), and git ignores the machine-local ones.
    let stray: Vec<String> = std::fs::read_dir(&report.directory)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".lock"))
        .collect();
    assert!(stray.is_empty(), "lock files beside the user's Terraform: {stray:?}");
    assert!(std::fs::read_to_string(ws.root().join(".gitignore")).unwrap().contains("plans/"));
    let backend = std::fs::read_to_string(report.directory.join("test.s3.tfbackend")).unwrap();
    assert!(backend.contains("use_lockfile") && backend.contains("true"), "{backend}");
    let main = std::fs::read_to_string(report.directory.join("main.tf")).unwrap();
    // Every endpoint of the provider points at the local server, not only those of generated components.
    assert!(main.contains("ssm ") && main.contains("ec2 "), "main.tf misses endpoints");
    for needle in ["endpoints {", "skip_credentials_validation = true", "default_tags {", "ManagedBy", "backend \"s3\""] {
        assert!(main.contains(needle), "main.tf lacks {needle}");
    }
    // The worker is wired: its triggers invoke the alias, its role may do exactly what it needs, its environment
    // names what it uses.
    for needle in [
        "resource \"aws_s3_bucket_notification\" \"uploads\"",
        "lambda_function_arn = aws_lambda_alias.worker.arn",
        "resource \"aws_lambda_permission\" \"worker_from_uploads\"",
        "resource \"aws_lambda_event_source_mapping\" \"worker_from_jobs\"",
        "function_name    = aws_lambda_alias.worker.arn",
        "\"dynamodb:PutItem\"",
        "Resource = [aws_dynamodb_table.items.arn]",
        "\"secretsmanager:GetSecretValue\"",
        "\"kms:Decrypt\"",
        "ITEMS_TABLE",
        "JOBS_QUEUE_URL",
        "ALERTS_TOPIC_ARN",
    ] {
        assert!(main.contains(needle), "main.tf lacks {needle}");
    }
    report.directory
}

#[test]
fn human_edits_are_never_clobbered_and_can_be_adopted() {
    use engineer::HandEdits;
    let (_keep, ws, config) = project(false);
    let spec = design_for(ComponentKind::SqsQueue);
    let report = engineer::write(&ws, &config, "one", &spec, None).unwrap();
    assert!(report.files.iter().all(|f| f.status == "created"));
    let again = engineer::write(&ws, &config, "one", &spec, None).unwrap();
    assert!(again.files.iter().all(|f| f.status == "unchanged"));
    let main = report.directory.join("main.tf");
    let generated = std::fs::read_to_string(&main).unwrap();
    assert!(generated.contains("message_retention_seconds  = 345600"), "{generated}");
    let edited = generated.replace("message_retention_seconds  = 345600", "message_retention_seconds  = 86400")
        + "\nresource \"aws_sns_topic\" \"mine\" {\n  name = \"mine\"\n}\n";
    std::fs::write(&main, &edited).unwrap();
    let other = design_for(ComponentKind::SnsTopic);
    // Without a choice: the diff and the two ways forward; nothing written.
    let err = engineer::write(&ws, &config, "two", &other, None).unwrap_err();
    let body = err.body().report.unwrap();
    assert_eq!(body["files"][0]["file"], "main.tf");
    let diff = body["files"][0]["diff"].as_str().unwrap();
    assert!(diff.contains("-  message_retention_seconds  = 345600") && diff.contains("+resource \"aws_sns_topic\" \"mine\""), "{diff}");
    let ways = body["ways_forward"].to_string();
    assert!(ways.contains("--hand-edits adopt") && ways.contains("--hand-edits overwrite"), "{ways}");
    assert_eq!(std::fs::read_to_string(&main).unwrap(), edited, "nothing written on refusal");
    assert!(!std::fs::read_to_string(report.directory.join("outputs.tf")).unwrap().contains("topic_arn"), "no file written on refusal");
    // Adopt: the design's files are written fresh; the edit lives on beside them.
    let adopted = engineer::write(&ws, &config, "one", &spec, Some(HandEdits::Adopt)).unwrap();
    assert_eq!(std::fs::read_to_string(&main).unwrap(), generated);
    let over = std::fs::read_to_string(report.directory.join("adopted_override.tf")).unwrap();
    assert!(over.contains("resource \"aws_sqs_queue\" \"main\"") && over.contains("message_retention_seconds = 86400") && !over.contains("name"), "{over}");
    let added = std::fs::read_to_string(report.directory.join("adopted.tf")).unwrap();
    assert!(added.contains("resource \"aws_sns_topic\" \"mine\""), "{added}");
    assert_eq!(adopted.adopted.len(), 2, "{:?}", adopted.adopted);
    // The adopted files are the person's: a later engineer run leaves them alone.
    let again = engineer::write(&ws, &config, "one", &spec, None).unwrap();
    assert!(again.files.iter().all(|f| f.status == "unchanged"));
    assert_eq!(std::fs::read_to_string(report.directory.join("adopted.tf")).unwrap(), added);
    // An edit an override cannot express is refused with the reason, and nothing is written.
    let start = generated.find("resource \"aws_sqs_queue\" \"main_dlq\"").expect("the queue has a dead-letter queue");
    let end = start + generated[start..].find("\n}\n").unwrap() + 3;
    let without_dlq = format!("{}{}", &generated[..start], &generated[end..]);
    std::fs::write(&main, &without_dlq).unwrap();
    let err = engineer::write(&ws, &config, "one", &spec, Some(HandEdits::Adopt)).unwrap_err().to_string();
    assert!(err.contains("resource.aws_sqs_queue.main_dlq was deleted") && err.contains("overwrite"), "{err}");
    assert_eq!(std::fs::read_to_string(&main).unwrap(), without_dlq);
    let forced = engineer::write(&ws, &config, "two", &other, Some(HandEdits::Overwrite)).unwrap();
    assert!(forced.files.iter().any(|f| f.file == "main.tf" && f.status == "updated"));
    // A hand-written file of the same name is not ours either.
    std::fs::write(report.directory.join("variables.tf"), "variable \"mine\" {}\n").unwrap();
    std::fs::remove_file(report.directory.join(engineer::MANIFEST)).unwrap();
    let err = engineer::write(&ws, &config, "two", &other, None).unwrap_err();
    assert!(err.body().report.unwrap()["files"].as_array().unwrap().iter().any(|f| f["file"] == "variables.tf" && f["written_by_engineer"] == false), "{err}");
}

/// A project whose environments deploy to two regions: one state per region (its backend and variable files),
/// the role created in the primary region and looked up in the other, bucket names unique per region; the real
/// terraform validates it, in both regions.
#[test]
fn a_multi_region_stack_creates_global_resources_once_and_validates() {
    let tf = Terraform::get();
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::at(dir.path().join("demo-app"));
    let mut config = Config::init(&ws, &InitOptions { endpoint_url: Some("http://127.0.0.1:5000".into()), ..Default::default() }).unwrap();
    config.handlers.hosting.aws.as_mut().unwrap().regions = vec!["us-east-1".into(), "eu-west-1".into()];
    assert!(config.problems().is_empty(), "{:?}", config.problems());
    let spec = DesignSpec::parse(
        &json!({"version": 1, "feature": "two regions", "components": [
            {"type": "s3_bucket", "name": "uploads"}, {"type": "dynamodb_table", "name": "orders"}, {"type": "sqs_queue", "name": "jobs"},
            {"type": "lambda_function", "name": "worker", "settings": {"triggered_by": ["uploads"], "writes": ["orders", "jobs"]}}]})
        .to_string(),
    )
    .unwrap();
    let report = engineer::write(&ws, &config, "two", &spec, None).unwrap();
    let d = &report.directory;
    let read = |f: &str| std::fs::read_to_string(d.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    let eu = read("test.eu-west-1.tfvars");
    assert!(eu.contains("region         = \"eu-west-1\"") && eu.contains("primary_region = \"us-east-1\""), "{eu}");
    assert!(read("test.tfvars").contains("region      = \"us-east-1\""));
    assert!(read("test.eu-west-1.s3.tfbackend").contains("/eu-west-1/"), "one state per region");
    assert!(!read("test.s3.tfbackend").contains("eu-west-1"), "the primary region keeps the environment's state");
    let main = read("main.tf");
    for needle in [
        "= local.primary ? 1 : 0",
        "data \"aws_caller_identity\" \"faber\"",
        "one(concat(aws_iam_role.worker[*].arn, local.primary ? [] : [\"arn:${data.aws_partition.faber.partition}:iam::",
        "-uploads${local.region_suffix}",
        "-worker-access${local.region_suffix}",
    ] {
        assert!(main.contains(needle), "main.tf lacks {needle}:\n{main}");
    }
    scan_clean(d, "multi-region");
    let (code, out, err) = tf.run(d, &["init", "-backend=false", "-input=false", "-no-color"]);
    assert_eq!(code, 0, "terraform init failed\n{out}\n{err}");
    let (code, out, err) = tf.run(d, &["validate", "-no-color"]);
    assert_eq!(code, 0, "terraform validate failed\n{out}\n{err}");
    let (code, out, _) = tf.run(d, &["fmt", "-check", "-diff", "-no-color"]);
    assert_eq!(code, 0, "not fmt-clean:\n{out}");
    // A static site (CloudFront is global) is refused in a multi-region stack, with the way out.
    let site = DesignSpec::parse(&json!({"version": 1, "feature": "site", "components": [{"type": "static_site", "name": "web"}]}).to_string()).unwrap();
    let err = engineer::write(&ws, &config, "site", &site, Some(engineer::HandEdits::Overwrite)).unwrap_err().to_string();
    assert!(err.contains("CloudFront") && err.contains("regions"), "{err}");
}
