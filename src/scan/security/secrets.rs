//! Hard-coded secrets: how the rules recognise them (AWS key ids, secret-named
//! settings with literal values), the provider-credentials rule, and the
//! Secrets Manager encryption rule. Values are never copied into findings.

use super::{Hit, Module, Resource, Rule, Setting, Severity, each, setting};
use crate::tf::Val;

pub static PROVIDER_CREDENTIALS: Rule = Rule {
    id: "FC_GEN_001",
    severity: Severity::Critical,
    title: "AWS credentials hard-coded in the provider block",
    // Checkov matches the key formats; we flag any literal value.
    checkov_id: Some("CKV_AWS_41"),
    fix: "Remove access_key/secret_key from the provider; use a profile, environment variables, SSO or an assumed role.",
    check: provider_credentials,
};

pub static SECRETS_MANAGER_CMK: Rule = Rule {
    id: "FC_SM_001",
    severity: Severity::Low,
    title: "Secrets Manager secret not encrypted with a customer managed KMS key",
    checkov_id: Some("CKV_AWS_149"),
    fix: "Set kms_key_id to a customer managed KMS key (not alias/aws/secretsmanager) to control who can decrypt the secret.",
    check: secrets_manager_cmk,
};

fn provider_credentials(m: &Module) -> Vec<Hit<'_>> {
    m.providers
        .iter()
        .filter(|p| p.name == "aws")
        .filter_map(|p| {
            let keys: Vec<&str> =
                ["access_key", "secret_key", "token"].into_iter().filter(|k| matches!(p.attrs.get(*k), Some(Val::Str(s)) if !s.is_empty())).collect();
            (!keys.is_empty()).then(|| Hit {
                address: format!("provider.{}", p.name),
                file: &p.file,
                line: p.line,
                ignores: &[],
                message: format!("the aws provider sets {} to a literal value", keys.join(" and ")),
            })
        })
        .collect()
}

fn secrets_manager_cmk(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_secretsmanager_secret"], "kms_key_id", |r| match setting(r, "kms_key_id") {
        Setting::Absent => Some("kms_key_id is not set: the secret uses the AWS managed key aws/secretsmanager".into()),
        s if s.as_str().is_some_and(|k| k.contains("alias/aws/")) => Some("kms_key_id names an AWS managed key".into()),
        _ => None,
    })
}

/// An AWS access key id (`AKIA…`/`ASIA…` and 16 more upper-case letters or digits) anywhere in `text`.
pub(crate) fn has_access_key_id(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.windows(20).enumerate().any(|(i, w)| {
        let boundary = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let after = bytes.get(i + 20).is_none_or(|b| !b.is_ascii_alphanumeric());
        boundary && after && matches!(&w[..4], b"AKIA" | b"ASIA" | b"ABIA" | b"ACCA") && w[4..].iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    })
}

/// `aws_secret_access_key = <40 characters>` (as in a shell script or credentials file).
pub(crate) fn has_secret_access_key(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.match_indices("secret_access_key").any(|(at, key)| {
        let rest = text[at + key.len()..].trim_start_matches(['"', '\'', ' ', '=', ':']);
        let token: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '/' || *c == '+').collect();
        token.len() == 40
    })
}

/// A setting name that says it holds a secret (`DB_PASSWORD`, `api_key`), not
/// one that says where the secret lives (`DB_PASSWORD_ARN`, `SECRET_NAME`).
pub(crate) fn secret_like_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    let secretish = ["password", "passwd", "secret", "token", "api_key", "apikey", "private_key", "credential", "auth_key"].iter().any(|w| n.contains(w));
    let pointer = [
        "_arn",
        "_name",
        "_id",
        "_path",
        "_param",
        "_parameter",
        "_url",
        "_uri",
        "_endpoint",
        "_region",
        "_ttl",
        "_file",
        "_version",
        "_length",
        "_expiry",
        "_header",
    ]
    .iter()
    .any(|s| n.ends_with(s));
    secretish && !pointer
}

/// A literal that looks like a secret value rather than a pointer to one.
pub(crate) fn plausible_secret_value(value: &str) -> bool {
    let v = value.trim();
    v.len() >= 6
        && !v.chars().all(|c| c.is_ascii_digit())
        && !["true", "false", "none", "null", "changeme-in-ssm"].contains(&v.to_ascii_lowercase().as_str())
        && !["arn:", "{{resolve:", "/", "${", "ssm:", "secretsmanager:", "http://", "https://"].iter().any(|p| v.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_key_ids_and_secret_names() {
        assert!(has_access_key_id("export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n"));
        assert!(!has_access_key_id("AKIAIOSFODNN7EXAMPL"));
        assert!(!has_access_key_id("XAKIAIOSFODNN7EXAMPLE"));
        assert!(has_secret_access_key("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"));
        assert!(!has_secret_access_key("aws_secret_access_key = ${SECRET}"));
        assert!(secret_like_name("DB_PASSWORD") && secret_like_name("stripe_api_key"));
        assert!(!secret_like_name("DB_PASSWORD_ARN") && !secret_like_name("SECRET_NAME") && !secret_like_name("TABLE"));
        assert!(plausible_secret_value("hunter2hunter2") && !plausible_secret_value("arn:aws:ssm:eu-west-1:1:parameter/x") && !plausible_secret_value("3600"));
    }
}

super::simple_rule!(
    SSM_CMK,
    "FC_SM_002",
    Low,
    "SSM SecureString parameter is not encrypted with a customer managed key",
    Some("CKV_AWS_337"),
    ["aws_ssm_parameter"],
    "key_id",
    |r| (super::setting(r, "type").as_str() == Some("SecureString")).then(|| super::require_set(r, "key_id")).flatten(),
    "Set key_id = aws_kms_key.params.arn.",
);

super::simple_rule!(
    SSM_PLAINTEXT_SECRET,
    "FC_SM_003",
    High,
    "SSM parameter holding a secret is stored as plain String",
    // Not Checkov's CKV2_AWS_34, which reports every String parameter: ours only those whose
    // name or value looks like a secret (a String parameter named /app/region is fine).
    None,
    ["aws_ssm_parameter"],
    "type",
    ssm_plaintext_secret,
    "Use type = \"SecureString\" (with key_id) for passwords, tokens and keys.",
);

pub static ROTATION: Rule = Rule {
    id: "FC_SM_004",
    severity: Severity::Medium,
    title: "Secrets Manager secret is never rotated",
    checkov_id: Some("CKV2_AWS_57"),
    fix: "Add an aws_secretsmanager_secret_rotation with a rotation Lambda and rotation_rules { automatically_after_days = 30 }.",
    check: rotation,
};

fn ssm_plaintext_secret(r: &Resource) -> Option<String> {
    let kind = super::setting(r, "type").as_str()?;
    if kind == "SecureString" {
        return None;
    }
    let name = super::setting(r, "name").as_str().unwrap_or_default();
    let leaf = name.rsplit('/').next().unwrap_or(name);
    let value = super::setting(r, "value").as_str().unwrap_or_default();
    (secret_like_name(leaf) || has_secret_access_key(value)).then(|| format!("type = \"{kind}\" for a parameter named \"{name}\""))
}

fn rotation(m: &Module) -> Vec<Hit<'_>> {
    super::each(m, &["aws_secretsmanager_secret"], "", |r| {
        if !super::setting(r, "rotation_rules").is_absent() || !super::setting(r, "rotation_lambda_arn").is_absent() {
            return None;
        }
        super::links(m, "aws_secretsmanager_secret_rotation", "secret_id", r, &["arn", "id", "name"])
            .none()
            .then(|| "no aws_secretsmanager_secret_rotation for this secret".into())
    })
}
