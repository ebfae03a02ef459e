//! ECR repositories: scanning on push, immutable tags, KMS encryption, and
//! repository policies open to everyone.

use super::{Module, Resource, each, policy, require_flag, require_one_of, simple_rule};

pub static SCAN_ON_PUSH: super::Rule = super::Rule {
    id: "FC_ECR_001",
    severity: super::Severity::Medium,
    title: "ECR repository does not scan images on push",
    // Unlike Checkov, a registry-wide aws_ecr_registry_scanning_configuration in the same
    // configuration counts: it scans every repository whatever the repository says.
    checkov_id: Some("CKV_AWS_163"),
    fix: "Set image_scanning_configuration { scan_on_push = true }, or configure registry-wide scanning with aws_ecr_registry_scanning_configuration.",
    check: scan_on_push,
};

simple_rule!(
    MUTABLE_TAGS,
    "FC_ECR_002",
    Low,
    "ECR repository allows image tags to be overwritten",
    Some("CKV_AWS_51"),
    ["aws_ecr_repository"],
    "image_tag_mutability",
    |r| require_one_of(r, "image_tag_mutability", &["IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"], false),
    "Set image_tag_mutability = \"IMMUTABLE\" so a deployed tag always means the same image.",
);

simple_rule!(
    KMS_ENCRYPTION,
    "FC_ECR_003",
    Low,
    "ECR repository is not encrypted with a KMS key",
    Some("CKV_AWS_136"),
    ["aws_ecr_repository"],
    "encryption_configuration",
    |r| require_one_of(r, "encryption_configuration.encryption_type", &["KMS", "KMS_DSSE"], false),
    "Add encryption_configuration { encryption_type = \"KMS\" kms_key = aws_kms_key.ecr.arn }.",
);

pub static PUBLIC_POLICY: super::Rule = super::Rule {
    id: "FC_ECR_004",
    severity: super::Severity::High,
    title: "ECR repository policy allows any principal",
    checkov_id: Some("CKV_AWS_32"),
    fix: "Name the accounts or roles that may pull in the repository policy, or narrow the statement with aws:PrincipalOrgID.",
    check: public_policy,
};

fn scan_on_push(m: &Module) -> Vec<super::Hit<'_>> {
    if m.of_kind("aws_ecr_registry_scanning_configuration").any(|r| !r.data) {
        return Vec::new();
    }
    each(m, &["aws_ecr_repository"], "image_scanning_configuration", |r: &Resource| require_flag(r, "image_scanning_configuration.scan_on_push", true, false))
}

fn public_policy(m: &Module) -> Vec<super::Hit<'_>> {
    each(m, &["aws_ecr_repository_policy"], "policy", |r| policy::public_statement(m, r.get("policy")))
}
