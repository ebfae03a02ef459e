//! Data services not covered elsewhere: DocumentDB, EFS, Kinesis streams and
//! Firehose, MSK, Athena workgroups and the Glue Data Catalog.

use super::{Resource, Setting, forbid_value, require_at_least, require_flag, require_one_of, setting, simple_rule, strings};

simple_rule!(
    DOCDB_ENCRYPTION,
    "FC_DATA_001",
    High,
    "DocumentDB cluster storage is not encrypted",
    Some("CKV_AWS_74"),
    ["aws_docdb_cluster"],
    "storage_encrypted",
    |r| require_flag(r, "storage_encrypted", true, false),
    "Set storage_encrypted = true (with kms_key_id for a customer managed key); existing clusters must be restored from an encrypted snapshot.",
);

simple_rule!(
    DOCDB_LOGS,
    "FC_DATA_002",
    Medium,
    "DocumentDB cluster exports no audit or profiler logs",
    Some("CKV_AWS_85"),
    ["aws_docdb_cluster"],
    "enabled_cloudwatch_logs_exports",
    |r| match setting(r, "enabled_cloudwatch_logs_exports") {
        Setting::Absent => Some("enabled_cloudwatch_logs_exports is not set".into()),
        Setting::Known(v) => {
            let on = strings(Some(v));
            (!on.contains(&"audit") && !on.contains(&"profiler")).then(|| "enabled_cloudwatch_logs_exports has neither \"audit\" nor \"profiler\"".into())
        }
        Setting::Unknown => None,
    },
    "Set enabled_cloudwatch_logs_exports = [\"audit\", \"profiler\"] (and audit_logs = enabled in the parameter group).",
);

simple_rule!(
    DOCDB_BACKUPS,
    "FC_DATA_003",
    Low,
    "DocumentDB backups are kept for less than 7 days",
    Some("CKV_AWS_360"),
    ["aws_docdb_cluster"],
    "backup_retention_period",
    |r| require_at_least(r, "backup_retention_period", 7.0, 1.0),
    "Set backup_retention_period to at least 7 days.",
);

simple_rule!(
    EFS_ENCRYPTION,
    "FC_DATA_004",
    High,
    "EFS file system is not encrypted",
    Some("CKV_AWS_42"),
    ["aws_efs_file_system"],
    "encrypted",
    |r| require_flag(r, "encrypted", true, false),
    "Set encrypted = true (with kms_key_id for a customer managed key); an existing file system must be copied to a new encrypted one.",
);

simple_rule!(
    KINESIS_ENCRYPTION,
    "FC_DATA_005",
    Medium,
    "Kinesis stream is not encrypted",
    Some("CKV_AWS_43"),
    ["aws_kinesis_stream"],
    "encryption_type",
    |r| require_one_of(r, "encryption_type", &["KMS"], false),
    "Set encryption_type = \"KMS\" with kms_key_id (\"alias/aws/kinesis\" or a customer managed key).",
);

simple_rule!(
    FIREHOSE_ENCRYPTION,
    "FC_DATA_006",
    Medium,
    "Kinesis Firehose delivery stream is not encrypted",
    Some("CKV_AWS_240"),
    ["aws_kinesis_firehose_delivery_stream"],
    "server_side_encryption",
    |r| if setting(r, "kinesis_source_configuration").is_absent() { require_flag(r, "server_side_encryption.enabled", true, false) } else { None },
    "Add server_side_encryption { enabled = true } (a stream reading from Kinesis inherits the source stream's encryption instead).",
);

simple_rule!(
    MSK_ENCRYPTION,
    "FC_DATA_007",
    High,
    "MSK cluster allows plaintext traffic",
    Some("CKV_AWS_81"),
    ["aws_msk_cluster"],
    "encryption_info",
    msk_encryption,
    "Set encryption_info { encryption_in_transit { client_broker = \"TLS\" in_cluster = true } }.",
);

simple_rule!(
    MSK_LOGGING,
    "FC_DATA_008",
    Low,
    "MSK cluster ships no broker logs",
    Some("CKV_AWS_80"),
    ["aws_msk_cluster"],
    "logging_info",
    msk_logging,
    "Add logging_info { broker_logs { cloudwatch_logs { enabled = true log_group = … } } }.",
);

simple_rule!(
    MSK_PUBLIC,
    "FC_DATA_009",
    High,
    "MSK brokers are publicly accessible",
    Some("CKV_AWS_291"),
    ["aws_msk_cluster"],
    "broker_node_group_info",
    |r| forbid_value(r, "broker_node_group_info.connectivity_info.public_access.type", &["SERVICE_PROVIDED_EIPS"]),
    "Set connectivity_info { public_access { type = \"DISABLED\" } } and reach the brokers from inside the VPC.",
);

simple_rule!(
    ATHENA_ENFORCE,
    "FC_DATA_010",
    Medium,
    "Athena workgroup lets clients override its settings (and skip encryption)",
    Some("CKV_AWS_82"),
    ["aws_athena_workgroup"],
    "configuration",
    |r| forbid_value(r, "configuration.enforce_workgroup_configuration", &["false"]),
    "Remove enforce_workgroup_configuration = false (the default is true).",
);

simple_rule!(
    ATHENA_RESULTS_ENCRYPTION,
    "FC_DATA_011",
    Medium,
    "Athena workgroup does not encrypt query results",
    Some("CKV_AWS_159"),
    ["aws_athena_workgroup"],
    "configuration",
    |r| setting(r, "configuration.result_configuration.encryption_configuration.encryption_option")
        .is_absent()
        .then(|| "no result_configuration.encryption_configuration".into()),
    "Add configuration { result_configuration { encryption_configuration { encryption_option = \"SSE_KMS\" kms_key_arn = … } } }.",
);

simple_rule!(
    GLUE_CATALOG_ENCRYPTION,
    "FC_DATA_012",
    Medium,
    "Glue Data Catalog is not encrypted with KMS",
    // Like Checkov, both the metadata and the connection passwords must be encrypted.
    Some("CKV_AWS_94"),
    ["aws_glue_data_catalog_encryption_settings"],
    "data_catalog_encryption_settings",
    glue_catalog,
    "Set encryption_at_rest { catalog_encryption_mode = \"SSE-KMS\" sse_aws_kms_key_id = … } and connection_password_encryption { return_connection_password_encrypted = true aws_kms_key_id = … }.",
);

fn msk_encryption(r: &Resource) -> Option<String> {
    match setting(r, "encryption_info.encryption_in_transit.client_broker") {
        Setting::Known(v) if v.as_str().is_some_and(|c| !c.eq_ignore_ascii_case("TLS")) => {
            return Some(format!("encryption_in_transit.client_broker = \"{}\"", v.as_str().unwrap_or_default()));
        }
        _ => {}
    }
    forbid_value(r, "encryption_info.encryption_in_transit.in_cluster", &["false"])
}

fn msk_logging(r: &Resource) -> Option<String> {
    let logs = ["cloudwatch_logs", "firehose", "s3"];
    if logs.iter().any(|l| matches!(setting(r, &format!("logging_info.broker_logs.{l}.enabled")), Setting::Unknown)) {
        return None;
    }
    (!logs.iter().any(|l| setting(r, &format!("logging_info.broker_logs.{l}.enabled")).as_bool() == Some(true)))
        .then(|| "no broker_logs destination is enabled".into())
}

fn glue_catalog(r: &Resource) -> Option<String> {
    let base = "data_catalog_encryption_settings";
    let mode = setting(r, &format!("{base}.encryption_at_rest.catalog_encryption_mode"));
    if !matches!(mode, Setting::Unknown)
        && !mode.as_str().is_some_and(|m| m.eq_ignore_ascii_case("SSE-KMS") || m.eq_ignore_ascii_case("SSE-KMS-WITH-SERVICE-ROLE"))
    {
        return Some("catalog_encryption_mode is not SSE-KMS".into());
    }
    require_flag(r, &format!("{base}.connection_password_encryption.return_connection_password_encrypted"), true, false)
}
