//! DynamoDB tables: point-in-time recovery and customer managed encryption.

use super::{Hit, Module, Rule, Setting, Severity, each, require_true, setting};

pub static PITR: Rule = Rule {
    id: "FC_DDB_001",
    severity: Severity::Medium,
    title: "DynamoDB point-in-time recovery is not enabled",
    checkov_id: Some("CKV_AWS_28"),
    fix: "Add point_in_time_recovery { enabled = true }.",
    check: pitr,
};

pub static CMK: Rule = Rule {
    id: "FC_DDB_002",
    severity: Severity::Low,
    title: "DynamoDB table is not encrypted with a customer managed KMS key",
    checkov_id: Some("CKV_AWS_119"),
    fix: "Add server_side_encryption { enabled = true, kms_key_arn = <customer managed key ARN> } when you need control over the key.",
    check: cmk,
};

fn pitr(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_dynamodb_table"], "point_in_time_recovery", |r| require_true(r, "point_in_time_recovery.enabled"))
}

fn cmk(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_dynamodb_table"], "server_side_encryption", |r| {
        let enabled = setting(r, "server_side_encryption.enabled");
        if matches!(enabled, Setting::Unknown) || (enabled.as_bool() == Some(true) && !setting(r, "server_side_encryption.kms_key_arn").is_absent()) {
            return None;
        }
        Some("the table uses the AWS owned key (no server_side_encryption with kms_key_arn)".into())
    })
}
