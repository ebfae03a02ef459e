//! SQS queues and SNS topics: encryption at rest and access policies.

use super::policy;
use super::{Hit, Module, Rule, Setting, Severity, each, require_set, setting};

pub static SQS_ENCRYPTION: Rule = Rule {
    id: "FC_SQS_001",
    severity: Severity::Medium,
    title: "SQS queue is not encrypted",
    checkov_id: Some("CKV_AWS_27"),
    fix: "Set kms_master_key_id (a customer managed key for sensitive data) or sqs_managed_sse_enabled = true.",
    check: sqs_encryption,
};

pub static SQS_PUBLIC: Rule = Rule {
    id: "FC_SQS_002",
    severity: Severity::High,
    title: "SQS queue policy allows any principal",
    checkov_id: Some("CKV_AWS_168"),
    fix: "Name the principals in the queue policy, or narrow it with aws:SourceArn / aws:SourceAccount for the sending service.",
    check: sqs_public,
};

pub static SQS_ALL_ACTIONS: Rule = Rule {
    id: "FC_SQS_003",
    severity: Severity::Medium,
    title: "SQS queue policy allows all actions",
    // Checkov looks at the first statement's Action = "*" only; we check every Allow for "*" and "sqs:*".
    checkov_id: Some("CKV_AWS_72"),
    fix: "Allow only the actions the principal needs (sqs:SendMessage for producers, sqs:ReceiveMessage/DeleteMessage for consumers).",
    check: sqs_all_actions,
};

pub static SNS_ENCRYPTION: Rule = Rule {
    id: "FC_SNS_001",
    severity: Severity::Medium,
    title: "SNS topic is not encrypted",
    checkov_id: Some("CKV_AWS_26"),
    fix: "Set kms_master_key_id (alias/aws/sns or a customer managed key).",
    check: sns_encryption,
};

pub static SNS_PUBLIC: Rule = Rule {
    id: "FC_SNS_002",
    severity: Severity::High,
    title: "SNS topic policy allows any principal",
    checkov_id: Some("CKV_AWS_169"),
    fix: "Name the principals in the topic policy, or narrow it with aws:SourceArn / aws:SourceAccount / aws:PrincipalOrgID.",
    check: sns_public,
};

fn sqs_encryption(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_sqs_queue"], "kms_master_key_id", |r| {
        if !setting(r, "kms_master_key_id").is_absent() {
            return None;
        }
        match setting(r, "sqs_managed_sse_enabled") {
            Setting::Unknown => None,
            s if s.as_bool() == Some(true) => None,
            s if s.as_bool() == Some(false) => Some("sqs_managed_sse_enabled = false and no kms_master_key_id".into()),
            _ => Some("neither kms_master_key_id nor sqs_managed_sse_enabled = true is set".into()),
        }
    })
}

fn public<'m>(m: &'m Module, kinds: &[&str]) -> Vec<Hit<'m>> {
    each(m, kinds, "policy", |r| policy::public_statement(m, r.get("policy")))
}

fn sqs_public(m: &Module) -> Vec<Hit<'_>> {
    public(m, &["aws_sqs_queue_policy", "aws_sqs_queue"])
}

fn sns_public(m: &Module) -> Vec<Hit<'_>> {
    public(m, &["aws_sns_topic_policy", "aws_sns_topic"])
}

fn sqs_all_actions(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_sqs_queue_policy", "aws_sqs_queue"], "policy", |r| {
        let s = policy::statements(m, r.get("policy"))?;
        s.iter()
            .position(|st| st.allow && !st.not_action && st.actions.iter().any(|a| a == "*" || a.eq_ignore_ascii_case("sqs:*")))
            .map(|n| format!("statement {} allows every SQS action", n + 1))
    })
}

fn sns_encryption(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_sns_topic"], "kms_master_key_id", |r| require_set(r, "kms_master_key_id"))
}
