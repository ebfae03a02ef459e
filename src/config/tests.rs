use std::path::Path;

use serde_json::{Value, json};

use super::*;

/// The user guide's own example configuration.
fn guide() -> Value {
    json!({
      "version": "1.0",
      "project": {"name": "my-project", "subsystem": "core", "organization": "my-org"},
      "handlers": {
        "hosting": {"active": "aws", "aws": {"region": "us-east-1", "profiles": {
          "discover": "my-project-discover-deploy", "test": "my-project-test-deploy", "prod": "my-project-prod-deploy"}}},
        "iac": {"active": "terraform", "terraform": {
          "directory": "./infrastructure/terraform", "var_file_pattern": "{environment}.tfvars",
          "backend": {"type": "s3", "bucket": "{project}-terraform-state", "key": "{subsystem}/terraform.tfstate"}}}
      },
      "resource_naming": {"pattern": "{project}-{subsystem}-{environment}-{resource}", "separator": "-"},
      "environments": {
        "test": {"auto_approve": false, "cost_threshold": 100, "require_confirmation": false},
        "prod": {"auto_approve": false, "cost_threshold": 500, "require_confirmation": true}
      }
    })
}

fn load(value: &Value) -> Result<Config, ConfigError> {
    Config::from_json(&value.to_string(), Path::new("devops.json"))
}

/// Applies `edit` to the guide's config and expects an error mentioning every `needle`.
fn check_bad(edit: impl FnOnce(&mut Value), needles: &[&str]) {
    let mut value = guide();
    edit(&mut value);
    let err = load(&value).expect_err("config should be refused").to_string();
    for needle in needles {
        assert!(err.contains(needle), "error {err:?} should mention {needle:?}");
    }
}

#[test]
fn the_guide_example_loads() {
    let config = load(&guide()).unwrap();
    assert_eq!(config.env_names(), vec!["prod", "test"]);
    assert!(config.is_protected("prod"));
    assert!(!config.is_protected("test"));
    assert_eq!(config.resource_name("test", "database").unwrap(), "my-project-core-test-database");
    assert_eq!(config.aws().unwrap().profile("prod"), Some("my-project-prod-deploy"));
}

#[test]
fn older_profile_spellings_are_accepted() {
    let mut value = guide();
    value["handlers"]["hosting"]["aws"]["profiles"] = json!({"discover_deploy": "d", "test_deploy": "t", "prod_deploy": "p"});
    let config = load(&value).unwrap();
    let aws = config.aws().unwrap();
    assert_eq!((aws.profile("discover"), aws.profile("test"), aws.profile("prod")), (Some("d"), Some("t"), Some("p")));
}

#[test]
fn extra_environments_endpoint_and_regions() {
    let mut value = guide();
    value["environments"]["staging"] = json!({"auto_approve": false, "require_confirmation": true});
    value["handlers"]["hosting"]["aws"]["profiles"]["staging"] = json!("s");
    value["handlers"]["hosting"]["aws"]["endpoint_url"] = json!("http://127.0.0.1:5000");
    value["handlers"]["hosting"]["aws"]["regions"] = json!(["us-east-1", "eu-west-1"]);
    value["handlers"]["hosting"]["aws"]["account_id"] = json!("123456789012");
    let config = load(&value).unwrap();
    assert!(config.is_protected("staging"), "require_confirmation protects an environment");
    assert_eq!(config.aws().unwrap().regions.len(), 2);
    assert!(config.environment("qa").unwrap_err().to_string().contains("configured: prod, staging, test"));
}

#[test]
fn bad_files_name_the_json_path() {
    check_bad(|v| v["environments"]["test"]["auto_approve"] = json!("yes"), &["environments.test.auto_approve", "boolean"]);
    check_bad(|v| v["project"]["nmae"] = json!("x"), &["project", "unknown field `nmae`"]);
    check_bad(|v| v["handlers"]["hosting"]["active"] = json!("gcp"), &["handlers.hosting.active", "accepted: \"aws\""]);
    check_bad(|v| v["handlers"]["iac"]["active"] = json!("pulumi"), &["handlers.iac.active", "terraform"]);
    check_bad(|v| v["handlers"]["hosting"]["aws"]["region"] = json!("useast"), &["handlers.hosting.aws.region"]);
    check_bad(|v| v["handlers"]["hosting"]["aws"]["account_id"] = json!("1234"), &["account_id", "12-digit"]);
    check_bad(|v| v["handlers"]["hosting"]["aws"]["endpoint_url"] = json!("localhost:5000"), &["endpoint_url", "http://"]);
    check_bad(|v| v["resource_naming"]["pattern"] = json!("{project}-{env}-{resource}"), &["resource_naming.pattern", "unknown placeholder {env}"]);
    check_bad(|v| v["resource_naming"]["pattern"] = json!("{project}-{environment}"), &["resource_naming.pattern", "{resource}"]);
    check_bad(|v| v["handlers"]["iac"]["terraform"]["directory"] = json!("../elsewhere"), &["handlers.iac.terraform.directory"]);
    check_bad(|v| v["handlers"]["iac"]["terraform"]["backend"]["key"] = json!("{subsys}/x"), &["backend.key", "{subsys}"]);
    check_bad(|v| v["environments"]["Prod Env"] = json!({}), &["environments.Prod Env"]);
    check_bad(|v| v["environments"] = json!({}), &["environments", "at least one"]);
    check_bad(|v| v["project"]["name"] = json!("My Project"), &["project.name"]);
    check_bad(
        |v| {
            v["handlers"]["hosting"]["aws"]["profiles"].as_object_mut().unwrap().remove("prod");
        },
        &["profiles.prod", "own deploy profile"],
    );
    check_bad(|v| v["handlers"]["hosting"]["aws"]["profiles"]["test"] = json!("my-project-discover-deploy"), &["profiles.test", "discover"]);
    check_bad(|v| v["handlers"]["hosting"]["aws"]["profiles"]["test_deploy"] = json!("t2"), &["profiles.test_deploy", "same profile role"]);
    check_bad(|v| v["environments"]["test"]["cost_threshold"] = json!(-5), &["environments.test.cost_threshold"]);
    check_bad(|v| v["version"] = json!("2.0"), &["version"]);
}

#[test]
fn syntax_errors_carry_line_and_column() {
    let err = Config::from_json("{\n  \"version\": \"1.0\",\n  oops\n}", Path::new("devops.json")).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("line 3"), "{text}");
}

#[test]
fn several_problems_are_all_reported() {
    let mut value = guide();
    value["handlers"]["hosting"]["aws"]["region"] = json!("nowhere");
    value["resource_naming"]["separator"] = json!("+");
    match load(&value).unwrap_err() {
        ConfigError::Invalid { problems, .. } => assert_eq!(problems.len(), 2, "{problems:?}"),
        other => panic!("expected Invalid, got {other}"),
    }
}

#[test]
fn project_names_from_directories() {
    for (dir, expected) in [("/home/u/My Project", "my-project"), ("/x/api_service.v2", "api-service-v2"), ("/x/---", "my-project"), ("/x/Ünïcode", "n-code")]
    {
        assert_eq!(project_name_from_dir(Path::new(dir)), expected, "{dir}");
    }
}
