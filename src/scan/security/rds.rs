//! RDS instances and Aurora clusters: encryption at rest, public access,
//! backups, deletion protection, IAM authentication, hard-coded passwords.

use super::{Hit, Module, Resource, Rule, Setting, Severity, each, from_plan, require_flag, require_set, require_true, setting, simple_rule};

pub static INSTANCE_ENCRYPTION: Rule = Rule {
    id: "FC_RDS_001",
    severity: Severity::High,
    title: "RDS instance storage is not encrypted",
    // Read replicas and snapshot restores inherit encryption from their source and are not reported.
    checkov_id: Some("CKV_AWS_16"),
    fix: "Set storage_encrypted = true (with kms_key_id for a customer managed key); an existing instance must be restored from an encrypted snapshot.",
    check: instance_encryption,
};

pub static CLUSTER_ENCRYPTION: Rule = Rule {
    id: "FC_RDS_002",
    severity: Severity::High,
    title: "Aurora/RDS cluster storage is not encrypted",
    checkov_id: Some("CKV_AWS_96"),
    fix: "Set storage_encrypted = true (with kms_key_id for a customer managed key) on the aws_rds_cluster.",
    check: cluster_encryption,
};

pub static PUBLIC: Rule = Rule {
    id: "FC_RDS_003",
    severity: Severity::High,
    title: "RDS database is publicly accessible",
    checkov_id: Some("CKV_AWS_17"),
    fix: "Set publicly_accessible = false and reach the database from inside the VPC (bastion, VPN, SSM port forwarding).",
    check: public,
};

pub static BACKUPS: Rule = Rule {
    id: "FC_RDS_004",
    severity: Severity::Medium,
    title: "RDS automated backups are disabled",
    checkov_id: Some("CKV_AWS_133"),
    fix: "Set backup_retention_period to at least 7 days.",
    check: backups,
};

pub static INSTANCE_DELETION_PROTECTION: Rule = Rule {
    id: "FC_RDS_005",
    severity: Severity::Low,
    title: "RDS instance has no deletion protection",
    checkov_id: Some("CKV_AWS_293"),
    fix: "Set deletion_protection = true on production databases.",
    check: instance_deletion_protection,
};

pub static CLUSTER_DELETION_PROTECTION: Rule = Rule {
    id: "FC_RDS_006",
    severity: Severity::Low,
    title: "RDS cluster has no deletion protection",
    checkov_id: Some("CKV_AWS_139"),
    fix: "Set deletion_protection = true on production clusters.",
    check: cluster_deletion_protection,
};

pub static IAM_AUTH: Rule = Rule {
    id: "FC_RDS_007",
    severity: Severity::Low,
    title: "RDS IAM database authentication is not enabled",
    // Checkov checks mysql and postgres only; MariaDB supports IAM authentication too.
    checkov_id: Some("CKV_AWS_161"),
    fix: "Set iam_database_authentication_enabled = true so applications can connect with IAM credentials instead of passwords.",
    check: iam_auth,
};

pub static HARDCODED_PASSWORD: Rule = Rule {
    id: "FC_RDS_008",
    severity: Severity::High,
    title: "Database master password is hard-coded",
    checkov_id: None,
    fix: "Use manage_master_user_password = true (Secrets Manager), or pass the password from a secret store; never write it in .tf files or variable defaults.",
    check: hardcoded_password,
};

/// Restores and replicas take their storage settings from the source.
fn derived(r: &Resource) -> bool {
    ["replicate_source_db", "snapshot_identifier", "replication_source_identifier", "restore_to_point_in_time"].iter().any(|k| !setting(r, k).is_absent())
}

fn instance_encryption(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_db_instance"], "storage_encrypted", |r| if derived(r) { None } else { require_true(r, "storage_encrypted") })
}

fn cluster_encryption(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_rds_cluster"], "storage_encrypted", |r| {
        // Aurora Serverless v1 is always encrypted.
        if derived(r) || setting(r, "engine_mode").as_str() == Some("serverless") {
            return None;
        }
        require_true(r, "storage_encrypted")
    })
}

fn public(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_db_instance", "aws_rds_cluster_instance"], "publicly_accessible", |r| {
        (setting(r, "publicly_accessible").as_bool() == Some(true)).then(|| "publicly_accessible = true".into())
    })
}

fn backups(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_db_instance", "aws_rds_cluster"], "backup_retention_period", |r| {
        let zero = setting(r, "backup_retention_period").as_num() == Some(0.0);
        (zero && setting(r, "replicate_source_db").is_absent()).then(|| "backup_retention_period = 0".into())
    })
}

fn instance_deletion_protection(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_db_instance"], "deletion_protection", |r| require_true(r, "deletion_protection"))
}

fn cluster_deletion_protection(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_rds_cluster"], "deletion_protection", |r| require_true(r, "deletion_protection"))
}

fn iam_auth(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_db_instance"], "iam_database_authentication_enabled", |r| {
        let engine = setting(r, "engine").as_str()?;
        if !matches!(engine, "mysql" | "postgres" | "mariadb") || derived(r) {
            return None;
        }
        require_true(r, "iam_database_authentication_enabled")
    })
}

fn hardcoded_password(m: &Module) -> Vec<Hit<'_>> {
    let mut hits = Vec::new();
    for (kind, key) in [("aws_db_instance", "password"), ("aws_rds_cluster", "master_password")] {
        hits.extend(each(m, &[kind], key, |r| {
            // A plan holds every value resolved, so a literal cannot be told from a secret passed in.
            if from_plan(r) || setting(r, "manage_master_user_password").as_bool() == Some(true) {
                return None;
            }
            matches!(setting(r, key), Setting::Known(v) if v.as_str().is_some_and(|s| !s.is_empty()))
                .then(|| format!("{key} is a literal in the configuration (or a variable default / tfvars value)"))
        }));
    }
    hits
}

simple_rule!(
    CLUSTER_IAM_AUTH,
    "FC_RDS_009",
    Low,
    "Aurora/RDS cluster IAM database authentication is not enabled",
    Some("CKV_AWS_162"),
    ["aws_rds_cluster"],
    "iam_database_authentication_enabled",
    |r| require_flag(r, "iam_database_authentication_enabled", true, false),
    "Set iam_database_authentication_enabled = true so applications can connect with IAM credentials instead of passwords.",
);

simple_rule!(
    CLUSTER_LOG_EXPORTS,
    "FC_RDS_010",
    Medium,
    "Aurora/RDS cluster exports no logs to CloudWatch",
    Some("CKV_AWS_324"),
    ["aws_rds_cluster"],
    "enabled_cloudwatch_logs_exports",
    |r| require_set(r, "enabled_cloudwatch_logs_exports"),
    "Set enabled_cloudwatch_logs_exports (e.g. [\"audit\", \"error\", \"slowquery\"] for MySQL, [\"postgresql\"] for PostgreSQL).",
);

simple_rule!(
    CLUSTER_COPY_TAGS,
    "FC_RDS_011",
    Low,
    "Aurora/RDS cluster does not copy its tags to snapshots",
    Some("CKV_AWS_313"),
    ["aws_rds_cluster"],
    "copy_tags_to_snapshot",
    |r| require_flag(r, "copy_tags_to_snapshot", true, false),
    "Set copy_tags_to_snapshot = true so snapshots keep the owner and cost tags.",
);

simple_rule!(
    INSTANCE_LOG_EXPORTS,
    "FC_RDS_012",
    Medium,
    "RDS instance exports no logs to CloudWatch",
    Some("CKV_AWS_129"),
    ["aws_db_instance"],
    "enabled_cloudwatch_logs_exports",
    |r| require_set(r, "enabled_cloudwatch_logs_exports"),
    "Set enabled_cloudwatch_logs_exports (e.g. [\"error\", \"general\", \"slowquery\"] for MySQL, [\"postgresql\", \"upgrade\"] for PostgreSQL).",
);

simple_rule!(
    ENHANCED_MONITORING,
    "FC_RDS_013",
    Low,
    "RDS instance has no enhanced monitoring",
    Some("CKV_AWS_118"),
    ["aws_db_instance", "aws_rds_cluster_instance"],
    "monitoring_interval",
    |r| super::require_at_least(r, "monitoring_interval", 1.0, 0.0),
    "Set monitoring_interval = 60 (or less) with a monitoring_role_arn.",
);

simple_rule!(
    MULTI_AZ,
    "FC_RDS_014",
    Low,
    "RDS instance runs in a single availability zone",
    Some("CKV_AWS_157"),
    ["aws_db_instance"],
    "multi_az",
    |r| if setting(r, "replicate_source_db").is_absent() { require_flag(r, "multi_az", true, false) } else { None },
    "Set multi_az = true for production databases (a standby in a second zone takes over on failure).",
);

simple_rule!(
    MINOR_UPGRADES,
    "FC_RDS_015",
    Low,
    "RDS instance does not take minor version upgrades",
    // The provider's default is true: Checkov wants it written, ours reports only an explicit false.
    Some("CKV_AWS_226"),
    ["aws_db_instance", "aws_rds_cluster_instance"],
    "auto_minor_version_upgrade",
    |r| require_flag(r, "auto_minor_version_upgrade", true, true),
    "Remove auto_minor_version_upgrade = false so security patches are applied in the maintenance window.",
);

simple_rule!(
    PERFORMANCE_INSIGHTS,
    "FC_RDS_016",
    Low,
    "RDS instance has Performance Insights off",
    Some("CKV_AWS_353"),
    ["aws_db_instance", "aws_rds_cluster_instance"],
    "performance_insights_enabled",
    |r| require_flag(r, "performance_insights_enabled", true, false),
    "Set performance_insights_enabled = true (7 days of retention are free).",
);

simple_rule!(
    CLUSTER_CMK,
    "FC_RDS_017",
    Low,
    "Aurora/RDS cluster is not encrypted with a customer managed KMS key",
    Some("CKV_AWS_327"),
    ["aws_rds_cluster"],
    "kms_key_id",
    |r| if derived(r) { None } else { require_set(r, "kms_key_id") },
    "Set kms_key_id = aws_kms_key.db.arn (with storage_encrypted = true).",
);

simple_rule!(
    INSTANCE_COPY_TAGS,
    "FC_RDS_018",
    Low,
    "RDS instance does not copy its tags to snapshots",
    Some("CKV2_AWS_60"),
    ["aws_db_instance"],
    "copy_tags_to_snapshot",
    |r| require_flag(r, "copy_tags_to_snapshot", true, false),
    "Set copy_tags_to_snapshot = true so snapshots keep the owner and cost tags.",
);
