//! Neptune clusters: storage encryption (and with a customer managed key),
//! IAM authentication, audit logs, backups, tags on snapshots, and public
//! instances.

use super::{forbid_value, require_at_least, require_flag, require_listed, setting, simple_rule};

simple_rule!(
    ENCRYPTION,
    "FC_NEP_001",
    High,
    "Neptune cluster storage is not encrypted",
    Some("CKV_AWS_44"),
    ["aws_neptune_cluster"],
    "storage_encrypted",
    |r| require_flag(r, "storage_encrypted", true, false),
    "Set storage_encrypted = true (with kms_key_arn for a customer managed key); an existing cluster must be restored from an encrypted snapshot.",
);

simple_rule!(
    IAM_AUTH,
    "FC_NEP_002",
    Low,
    "Neptune IAM database authentication is not enabled",
    Some("CKV_AWS_359"),
    ["aws_neptune_cluster"],
    "iam_database_authentication_enabled",
    |r| require_flag(r, "iam_database_authentication_enabled", true, false),
    "Set iam_database_authentication_enabled = true and sign requests with IAM credentials.",
);

simple_rule!(
    AUDIT_LOGS,
    "FC_NEP_003",
    Medium,
    "Neptune cluster does not export its audit log",
    Some("CKV_AWS_101"),
    ["aws_neptune_cluster"],
    "enable_cloudwatch_logs_exports",
    |r| require_listed(r, "enable_cloudwatch_logs_exports", &["audit"]),
    "Set enable_cloudwatch_logs_exports = [\"audit\"] (and neptune_enable_audit_log = 1 in the cluster parameter group).",
);

simple_rule!(
    BACKUP_RETENTION,
    "FC_NEP_004",
    Low,
    "Neptune backups are kept for less than 7 days",
    Some("CKV_AWS_361"),
    ["aws_neptune_cluster"],
    "backup_retention_period",
    |r| require_at_least(r, "backup_retention_period", 7.0, 1.0),
    "Set backup_retention_period to at least 7 days.",
);

simple_rule!(
    COPY_TAGS,
    "FC_NEP_005",
    Low,
    "Neptune cluster does not copy its tags to snapshots",
    Some("CKV_AWS_362"),
    ["aws_neptune_cluster"],
    "copy_tags_to_snapshot",
    |r| require_flag(r, "copy_tags_to_snapshot", true, false),
    "Set copy_tags_to_snapshot = true so snapshots keep the owner and cost tags.",
);

simple_rule!(
    PUBLIC_INSTANCE,
    "FC_NEP_006",
    High,
    "Neptune instance is publicly accessible",
    Some("CKV_AWS_102"),
    ["aws_neptune_cluster_instance"],
    "publicly_accessible",
    |r| forbid_value(r, "publicly_accessible", &["true"]),
    "Set publicly_accessible = false and reach the database from inside the VPC.",
);

simple_rule!(
    CMK,
    "FC_NEP_007",
    Low,
    "Neptune cluster is not encrypted with a customer managed KMS key",
    Some("CKV_AWS_347"),
    ["aws_neptune_cluster"],
    "kms_key_arn",
    |r| setting(r, "kms_key_arn").is_absent().then(|| "kms_key_arn is not set (an AWS managed key or none)".into()),
    "Set kms_key_arn = aws_kms_key.neptune.arn (with storage_encrypted = true).",
);
