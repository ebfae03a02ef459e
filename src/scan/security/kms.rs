//! KMS keys: automatic rotation and key policies open to any principal.

use super::policy::{self, Statement};
use super::{Hit, Module, Rule, Setting, Severity, each, require_true, setting};

pub static ROTATION: Rule = Rule {
    id: "FC_KMS_001",
    severity: Severity::Medium,
    title: "KMS key rotation is not enabled",
    checkov_id: Some("CKV_AWS_7"),
    fix: "Set enable_key_rotation = true on symmetric customer managed keys.",
    check: rotation,
};

pub static WILDCARD_PRINCIPAL: Rule = Rule {
    id: "FC_KMS_002",
    severity: Severity::Critical,
    title: "KMS key policy allows any principal",
    // Checkov passes any statement that has a Condition; we require a condition that narrows the callers.
    checkov_id: Some("CKV_AWS_33"),
    fix: "Name the account root, roles or services in the key policy, or narrow \"*\" with kms:CallerAccount / kms:ViaService conditions.",
    check: wildcard_principal,
};

fn rotation(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_kms_key"], "enable_key_rotation", |r| {
        // Only symmetric encryption keys can rotate automatically.
        match setting(r, "customer_master_key_spec") {
            Setting::Absent => {}
            s if s.as_str() == Some("SYMMETRIC_DEFAULT") => {}
            _ => return None,
        }
        require_true(r, "enable_key_rotation")
    })
}

fn wildcard_principal(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_kms_key", "aws_kms_key_policy"], "policy", |r| {
        let s = policy::statements(m, r.get("policy"))?;
        s.iter().position(Statement::is_public).map(|n| format!("statement {} allows any principal without a narrowing condition", n + 1))
    })
}

pub static NO_KEY_POLICY: Rule = Rule {
    id: "FC_KMS_003",
    severity: Severity::Low,
    title: "KMS key has no key policy of its own",
    // Without one, AWS applies the default policy: every principal of the account whose IAM policy allows kms:* can use the key.
    checkov_id: Some("CKV2_AWS_64"),
    fix: "Write the key policy (policy = jsonencode(…) or an aws_kms_key_policy) naming the roles that administer and use the key.",
    check: no_key_policy,
};

fn no_key_policy(m: &Module) -> Vec<Hit<'_>> {
    super::each(m, &["aws_kms_key"], "policy", |r| {
        (super::setting(r, "policy").is_absent() && super::links(m, "aws_kms_key_policy", "key_id", r, &["key_id", "id", "arn"]).none())
            .then(|| "no policy and no aws_kms_key_policy for this key".into())
    })
}
