//! Logging: CloudWatch log groups (retention, KMS) and CloudTrail trails
//! (log file validation, KMS, all regions).

use super::{Hit, Module, Rule, Setting, Severity, each, require_set, require_true, setting};

pub static RETENTION: Rule = Rule {
    id: "FC_LOG_001",
    severity: Severity::Medium,
    title: "CloudWatch log group keeps logs forever (no retention set)",
    checkov_id: Some("CKV_AWS_66"),
    fix: "Set retention_in_days (e.g. 30, 90 or 365, as your compliance rules require).",
    check: retention,
};

pub static LOG_GROUP_KMS: Rule = Rule {
    id: "FC_LOG_002",
    severity: Severity::Low,
    title: "CloudWatch log group is not encrypted with a KMS key",
    checkov_id: Some("CKV_AWS_158"),
    fix: "Set kms_key_id to a KMS key whose policy lets logs.<region>.amazonaws.com use it.",
    check: log_group_kms,
};

pub static TRAIL_VALIDATION: Rule = Rule {
    id: "FC_LOG_003",
    severity: Severity::Medium,
    title: "CloudTrail log file validation is not enabled",
    checkov_id: Some("CKV_AWS_36"),
    fix: "Set enable_log_file_validation = true so tampering with delivered logs can be detected.",
    check: trail_validation,
};

pub static TRAIL_KMS: Rule = Rule {
    id: "FC_LOG_004",
    severity: Severity::Medium,
    title: "CloudTrail logs are not encrypted with a KMS key",
    checkov_id: Some("CKV_AWS_35"),
    fix: "Set kms_key_id to a customer managed KMS key that CloudTrail may use.",
    check: trail_kms,
};

pub static TRAIL_MULTI_REGION: Rule = Rule {
    id: "FC_LOG_005",
    severity: Severity::Medium,
    title: "CloudTrail trail does not cover all regions",
    checkov_id: Some("CKV_AWS_67"),
    fix: "Set is_multi_region_trail = true so activity in unused regions is recorded too.",
    check: trail_multi_region,
};

fn retention(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_cloudwatch_log_group"], "retention_in_days", |r| match setting(r, "retention_in_days") {
        Setting::Absent => Some("retention_in_days is not set".into()),
        s if s.as_num() == Some(0.0) => Some("retention_in_days = 0 (never expire)".into()),
        _ => None,
    })
}

fn log_group_kms(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_cloudwatch_log_group"], "kms_key_id", |r| require_set(r, "kms_key_id"))
}

fn trail_validation(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_cloudtrail"], "enable_log_file_validation", |r| require_true(r, "enable_log_file_validation"))
}

fn trail_kms(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_cloudtrail"], "kms_key_id", |r| require_set(r, "kms_key_id"))
}

fn trail_multi_region(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_cloudtrail"], "is_multi_region_trail", |r| require_true(r, "is_multi_region_trail"))
}

super::simple_rule!(
    RETENTION_YEAR,
    "FC_LOG_006",
    Info,
    "Log group keeps logs for less than a year",
    // FC_LOG_001 reports a group kept forever without a limit; this one the audit view: some
    // standards (PCI DSS 10.5.1) want a year of history. Info: most application logs need less.
    Some("CKV_AWS_338"),
    ["aws_cloudwatch_log_group"],
    "retention_in_days",
    |r| super::setting(r, "retention_in_days").as_num().filter(|d| *d > 0.0 && *d < 365.0).map(|d| format!("retention_in_days = {d}")),
    "Set retention_in_days = 365 (or more) for logs that audits rely on; export older logs to S3 with a lifecycle rule if they are large.",
);

super::simple_rule!(
    TRAIL_CLOUDWATCH,
    "FC_LOG_007",
    Low,
    "CloudTrail trail does not deliver to CloudWatch Logs",
    Some("CKV2_AWS_10"),
    ["aws_cloudtrail"],
    "cloud_watch_logs_group_arn",
    |r| super::require_set(r, "cloud_watch_logs_group_arn"),
    "Set cloud_watch_logs_group_arn (\"${aws_cloudwatch_log_group.trail.arn}:*\") and cloud_watch_logs_role_arn so metric filters and alarms can watch API activity.",
);
