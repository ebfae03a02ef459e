//! In-memory stores: ElastiCache (replication groups and clusters), MemoryDB
//! and DAX: encryption at rest and in transit, authentication, backups.

use super::{Resource, Setting, forbid_value, require_flag, require_one_of, setting, simple_rule};

simple_rule!(
    AT_REST,
    "FC_EC_001",
    Medium,
    "ElastiCache replication group does not encrypt data at rest",
    Some("CKV_AWS_29"),
    ["aws_elasticache_replication_group"],
    "at_rest_encryption_enabled",
    |r| require_flag(r, "at_rest_encryption_enabled", true, false),
    "Set at_rest_encryption_enabled = true (with kms_key_id for a customer managed key); existing groups are replaced.",
);

simple_rule!(
    IN_TRANSIT,
    "FC_EC_002",
    High,
    "ElastiCache replication group does not encrypt traffic in transit",
    Some("CKV_AWS_30"),
    ["aws_elasticache_replication_group"],
    "transit_encryption_enabled",
    |r| require_flag(r, "transit_encryption_enabled", true, false),
    "Set transit_encryption_enabled = true and connect with TLS.",
);

simple_rule!(
    NO_AUTH,
    "FC_EC_003",
    High,
    "ElastiCache replication group accepts clients without authentication",
    Some("CKV_AWS_31"),
    ["aws_elasticache_replication_group"],
    "auth_token",
    no_auth,
    "Set transit_encryption_enabled = true with an auth_token (from a secret store) or user_group_ids (Redis ACL users).",
);

simple_rule!(
    BACKUPS,
    "FC_EC_004",
    Low,
    "ElastiCache Redis cluster keeps no automatic backups",
    Some("CKV_AWS_134"),
    ["aws_elasticache_cluster"],
    "snapshot_retention_limit",
    redis_backups,
    "Set snapshot_retention_limit to at least 1 (days).",
);

simple_rule!(
    MEMORYDB_TLS,
    "FC_EC_005",
    High,
    "MemoryDB cluster does not use TLS",
    Some("CKV_AWS_202"),
    ["aws_memorydb_cluster"],
    "tls_enabled",
    |r| forbid_value(r, "tls_enabled", &["false"]),
    "Remove tls_enabled = false (the default is true).",
);

simple_rule!(
    DAX_AT_REST,
    "FC_EC_006",
    Medium,
    "DAX cluster does not encrypt data at rest",
    Some("CKV_AWS_47"),
    ["aws_dax_cluster"],
    "server_side_encryption",
    |r| require_flag(r, "server_side_encryption.enabled", true, false),
    "Add server_side_encryption { enabled = true } (the cluster is replaced).",
);

simple_rule!(
    DAX_TLS,
    "FC_EC_007",
    Medium,
    "DAX cluster endpoint does not use TLS",
    Some("CKV_AWS_239"),
    ["aws_dax_cluster"],
    "cluster_endpoint_encryption_type",
    |r| require_one_of(r, "cluster_endpoint_encryption_type", &["TLS"], false),
    "Set cluster_endpoint_encryption_type = \"TLS\" (the cluster is replaced).",
);

fn no_auth(r: &Resource) -> Option<String> {
    if setting(r, "transit_encryption_enabled").as_bool() != Some(true) {
        // Without TLS there is no AUTH either; FC_EC_002 already says so. Report it here too
        // only when TLS is known to be off or unset.
        if matches!(setting(r, "transit_encryption_enabled"), Setting::Unknown) {
            return None;
        }
        return Some("no TLS, so no AUTH token or ACL user can be required".into());
    }
    (setting(r, "auth_token").is_absent() && setting(r, "user_group_ids").is_absent())
        .then(|| "TLS is on but neither auth_token nor user_group_ids is set".into())
}

fn redis_backups(r: &Resource) -> Option<String> {
    // Memcached has no backups; a cluster in a replication group takes the group's settings.
    if setting(r, "engine").as_str().is_some_and(|e| !e.eq_ignore_ascii_case("redis") && !e.eq_ignore_ascii_case("valkey"))
        || !setting(r, "replication_group_id").is_absent()
    {
        return None;
    }
    super::require_at_least(r, "snapshot_retention_limit", 1.0, 0.0)
}
