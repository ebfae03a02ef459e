//! Which focus a finding belongs to, its compliance area, and the AWS
//! Foundational Security Best Practices (FSBP) and CIS AWS Foundations
//! Benchmark (v3.0) controls of the same meaning. A rule without a matching
//! control carries none rather than a near miss.

use super::AuditFinding;

/// (rule, compliance area or "", controls).
const TABLE: &[(&str, &str, &[&str])] = &[
    ("FC_S3_001", "encryption", &["FSBP S3.4"]),
    ("FC_S3_002", "", &["FSBP S3.8", "CIS 2.1.4"]),
    ("FC_S3_003", "backups", &["FSBP S3.14"]),
    ("FC_S3_004", "logging", &["FSBP S3.9"]),
    ("FC_S3_005", "", &["FSBP S3.2"]),
    ("FC_S3_006", "", &["FSBP S3.3"]),
    ("FC_S3_007", "", &["FSBP S3.2", "FSBP S3.3"]),
    ("FC_S3_008", "encryption", &["FSBP S3.17"]),
    ("FC_S3_009", "encryption", &["FSBP S3.5", "CIS 2.1.1"]),
    ("FC_S3_010", "", &["FSBP S3.13"]),
    ("FC_IAM_001", "least privilege", &["FSBP IAM.1", "CIS 1.16"]),
    ("FC_IAM_002", "least privilege", &["FSBP IAM.1", "CIS 1.16"]),
    ("FC_IAM_003", "least privilege", &["FSBP IAM.21"]),
    ("FC_IAM_004", "least privilege", &[]),
    ("FC_IAM_005", "least privilege", &[]),
    ("FC_IAM_006", "least privilege", &["FSBP IAM.2", "CIS 1.15"]),
    ("FC_IAM_007", "least privilege", &["FSBP IAM.1", "CIS 1.16"]),
    ("FC_IAM_008", "least privilege", &["FSBP IAM.1"]),
    ("FC_IAM_020", "least privilege", &["FSBP IAM.21"]),
    ("FC_IAM_024", "least privilege", &["FSBP IAM.21"]),
    ("FC_AUDIT_001", "least privilege", &["FSBP IAM.3", "CIS 1.14"]),
    ("FC_NET_001", "", &["FSBP EC2.13", "CIS 5.2"]),
    ("FC_NET_002", "", &["FSBP EC2.14", "CIS 5.2"]),
    ("FC_NET_003", "", &["FSBP EC2.18", "CIS 5.2"]),
    ("FC_NET_004", "", &["FSBP EC2.19", "CIS 5.2"]),
    ("FC_NET_007", "logging", &["FSBP EC2.6", "CIS 3.7"]),
    ("FC_NET_008", "", &["FSBP EC2.2", "CIS 5.4"]),
    ("FC_LOG_001", "logging", &["FSBP CloudWatch.16"]),
    ("FC_LOG_002", "encryption", &[]),
    ("FC_LOG_003", "logging", &["FSBP CloudTrail.4", "CIS 3.2"]),
    ("FC_LOG_004", "encryption", &["FSBP CloudTrail.2", "CIS 3.5"]),
    ("FC_LOG_005", "logging", &["FSBP CloudTrail.1", "CIS 3.1"]),
    ("FC_AUDIT_002", "logging", &["FSBP CloudTrail.1", "CIS 3.1"]),
    ("FC_KMS_001", "encryption", &["FSBP KMS.4", "CIS 3.6"]),
    ("FC_DDB_001", "backups", &["FSBP DynamoDB.2"]),
    ("FC_DDB_002", "encryption", &[]),
    ("FC_LAMBDA_001", "logging", &["FSBP Lambda.7"]),
    ("FC_LAMBDA_005", "", &["FSBP Lambda.1"]),
    ("FC_LAMBDA_006", "encryption", &[]),
    ("FC_LAMBDA_007", "", &["FSBP Lambda.1"]),
    ("FC_LAMBDA_008", "", &["FSBP Lambda.2"]),
    ("FC_NAME_001", "naming", &[]),
    ("FC_TAG_001", "tags", &[]),
];

/// The finding with its controls and compliance area; naming and tags are compliance findings, the rest
/// keep their focus (security unless said otherwise).
pub fn classify(mut f: AuditFinding) -> AuditFinding {
    if let Some((_, area, controls)) = TABLE.iter().find(|(rule, _, _)| *rule == f.id) {
        f.controls = controls.iter().map(|c| c.to_string()).collect();
        f.area = (!area.is_empty()).then(|| area.to_string());
        if matches!(*area, "naming" | "tags") {
            f.focus = "compliance".into();
        }
    }
    if f.focus.is_empty() {
        f.focus = "security".into();
    }
    f
}

/// Whether a finding answers an audit of `focus`: compliance takes naming and tags and the security
/// findings about logging, encryption, backups and least privilege.
pub fn answers(f: &AuditFinding, focus: &str) -> bool {
    f.focus == focus || focus == "compliance" && f.area.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_named_exists_in_the_scanner_or_the_audit() {
        let known: Vec<String> = crate::scan::security::RULES.iter().map(|r| r.id.to_string()).collect();
        for (rule, _, _) in TABLE {
            assert!(known.iter().any(|k| k == rule) || rule.starts_with("FC_AUDIT_") || matches!(*rule, "FC_NAME_001" | "FC_TAG_001"), "{rule} is no rule");
        }
    }
}
