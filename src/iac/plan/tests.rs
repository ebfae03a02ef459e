use std::path::PathBuf;

use serde_json::json;

use super::*;

fn fixture(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/terraform").join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (the shared fixtures sit beside the project as ../shared)", path.display()))
}

fn summary(rel: &str) -> ChangeSummary {
    summarize(&fixture(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn attr<'a>(r: &'a ResourceChange, path: &str) -> &'a AttrChange {
    r.changed.iter().find(|a| a.path == path).unwrap_or_else(|| panic!("{} has no change at {path}: {:?}", r.address, r.changed))
}

#[test]
fn counts_every_kind_of_change_and_drift() {
    let s = summary("plans/05-s3-create-update-delete-noop-drift.tf1.2.2.json");
    assert_eq!((s.add, s.change, s.destroy, s.replace, s.no_op), (1, 1, 1, 0, 1));
    assert_eq!(s.counts(), "+1 ~1 -1");
    assert_eq!(s.resources.len(), 3, "no-op resources are not listed");
    assert!(!s.drift.is_empty(), "this plan records drift");
    let deleted = s.resources.iter().find(|r| r.action == Action::Delete).unwrap();
    assert!(deleted.destructive && deleted.symbol == "-");
    assert_eq!(s.terraform_version.as_deref(), Some("1.2.2"));
}

#[test]
fn replacements_with_their_reason() {
    let s = summary("plans/04-small-secretsmanager-replace-create-before-destroy.tf1.2.4.json");
    assert_eq!((s.add, s.destroy, s.replace), (1, 1, 1));
    assert_eq!(s.resources[0].action, Action::ReplaceCreateFirst);
    assert_eq!(s.resources[0].symbol, "+/-");

    let s = summary("plans/edge-cases/null-resource-replace-because-tainted.tf1.15.0.json");
    assert_eq!(s.resources[0].action, Action::Replace);
    assert_eq!(s.resources[0].symbol, "-/+");
    assert_eq!(s.resources[0].reason.as_deref(), Some("replace_because_tainted"));

    let s = summary("plans-core/show-json/requires-replace/output.json");
    let r = &s.resources[0];
    assert_eq!(r.reason.as_deref(), Some("replace_because_cannot_update"));
    let ami = attr(r, "ami");
    assert_eq!((ami.before.clone(), ami.after.clone(), ami.forces_replacement), (Some(json!("bar")), Some(json!("force-replace")), true));
    assert_eq!(attr(r, "id").after, Some(json!("(known after apply)")));
    assert!(!attr(r, "id").forces_replacement);
}

#[test]
fn sensitive_values_are_masked() {
    let s = summary("plans-core/show-json/sensitive-values/output.json");
    let text = serde_json::to_string(&s).unwrap();
    assert!(!text.contains("boop"), "a sensitive value leaked: {text}");
    assert_eq!(attr(&s.resources[0], "ami").after, Some(json!("(sensitive value)")));
}

#[test]
fn reads_no_changes_and_odd_encodings() {
    assert_eq!(summary("plans/12-iam-oidc-data-read-create.tf1.5.7.json").read, 4);
    let none = summary("plans/edge-cases/no-resource-changes-providers-only.tf1.11.4.json");
    assert!(!none.has_changes());
    assert_eq!(none.text(), "Plan: 0 to add, 0 to change, 0 to destroy.");
    assert_eq!(summary("plans/edge-cases/s3-utf16-bom-windows.tf1.2.2.json").add, 1);
    assert_eq!(summary("plans/edge-cases/setup-terraform-wrapper-prefixed.tf1.0.11.json").add, 2);
}

#[test]
fn every_recorded_plan_summarises() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/terraform");
    let mut n = 0;
    for sub in ["plans", "plans/edge-cases"] {
        for e in std::fs::read_dir(dir.join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "json") {
                summarize(&std::fs::read(&p).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                n += 1;
            }
        }
    }
    for e in std::fs::read_dir(dir.join("plans-core/show-json")).unwrap() {
        let p = e.unwrap().path().join("output.json");
        if p.is_file() {
            let bytes = std::fs::read(&p).unwrap();
            // A few of Terraform's own cases are errors, not plans.
            if let Err(err) = summarize(&bytes) {
                assert!(err.contains("not a plan"), "{}: {err}", p.display());
            }
            n += 1;
        }
    }
    assert!(n >= 30, "{n}");
}

#[test]
fn text_marks_destructive_changes() {
    let s = summary("plans/05-s3-create-update-delete-noop-drift.tf1.2.2.json");
    let text = s.text();
    assert!(text.contains("delete_bucket (delete_because_no_resource_config)  ⚠ DATA LOSS: the bucket's objects"), "{text}");
    assert!(text.ends_with("Plan: 1 to add, 1 to change, 1 to destroy."), "{text}");
}

#[test]
fn not_a_plan() {
    assert!(summarize(b"hello").is_err());
    assert!(summarize(br#"{"format_version": "1.0", "values": {}}"#).unwrap_err().contains("not a plan"));
}

#[test]
fn deleting_or_replacing_what_holds_data_is_data_loss() {
    let change = |kind: &str, name: &str, actions: &[&str]| {
        json!({"address": format!("{kind}.{name}"), "type": kind, "name": name,
               "change": {"actions": actions, "before": {"id": "x"}, "after": null}})
    };
    let plan = json!({"format_version": "1.2", "resource_changes": [
        change("aws_dynamodb_table", "sessions", &["delete"]),
        change("aws_s3_bucket", "uploads", &["delete", "create"]),
        change("aws_sqs_queue", "orders", &["create", "delete"]),
        change("aws_lambda_function", "api", &["delete"]),
        change("aws_s3_bucket", "logs", &["update"]),
        change("aws_kms_key", "main", &["create"]),
    ]});
    let s = summarize(plan.to_string().as_bytes()).unwrap();
    let lost = s.data_loss();
    assert_eq!(lost.len(), 3, "{lost:?}");
    assert!(lost[0].starts_with("aws_dynamodb_table.sessions (-): the table's items"), "{lost:?}");
    assert!(lost[1].starts_with("aws_s3_bucket.uploads (-/+)"), "a replaced bucket is a new, empty one: {lost:?}");
    assert!(lost[2].starts_with("aws_sqs_queue.orders (+/-)"), "{lost:?}");
    let text = s.text();
    assert!(text.contains("aws_dynamodb_table.sessions  ⚠ DATA LOSS"), "{text}");
    assert!(text.contains("aws_lambda_function.api  ⚠ DESTRUCTIVE"), "a function holds no data: destructive only\n{text}");
    assert!(!text.contains("aws_s3_bucket.logs  ⚠"), "an update loses nothing\n{text}");
    for (kind, _) in STATEFUL {
        assert!(kind.starts_with("aws_") && lost_with(kind).is_some());
    }
}
