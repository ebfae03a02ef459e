//! Redshift clusters: encryption (and with a customer managed key), public
//! access, audit logging, enhanced VPC routing, version upgrades, automated
//! snapshots, and SSL required by the parameter group.

use super::{Hit, Module, Resource, Rule, Setting, Severity, each, forbid_value, links, require_flag, setting, simple_rule};
use crate::tf::Val;

simple_rule!(
    ENCRYPTION,
    "FC_RS_001",
    High,
    "Redshift cluster is not encrypted",
    Some("CKV_AWS_64"),
    ["aws_redshift_cluster"],
    "encrypted",
    |r| require_flag(r, "encrypted", true, false),
    "Set encrypted = true (with kms_key_id for a customer managed key).",
);

simple_rule!(
    PUBLIC,
    "FC_RS_002",
    High,
    "Redshift cluster is publicly accessible",
    // The provider's default was true before v5 and is false since; an unset value
    // is reported by Checkov, by ours only when the value is written true.
    Some("CKV_AWS_87"),
    ["aws_redshift_cluster"],
    "publicly_accessible",
    |r| forbid_value(r, "publicly_accessible", &["true"]),
    "Set publicly_accessible = false and connect from inside the VPC.",
);

pub static LOGGING: Rule = Rule {
    id: "FC_RS_003",
    severity: Severity::Medium,
    title: "Redshift cluster has no audit logging",
    // A separate aws_redshift_logging resource (provider v5) counts, as it should.
    checkov_id: Some("CKV_AWS_71"),
    fix: "Add an aws_redshift_logging resource (or logging { enable = true … } on provider v4) shipping to S3 or CloudWatch.",
    check: logging,
};

simple_rule!(
    CMK,
    "FC_RS_004",
    Low,
    "Redshift cluster is not encrypted with a customer managed KMS key",
    Some("CKV_AWS_142"),
    ["aws_redshift_cluster"],
    "kms_key_id",
    |r| super::require_set(r, "kms_key_id"),
    "Set kms_key_id = aws_kms_key.redshift.arn (with encrypted = true).",
);

simple_rule!(
    ENHANCED_VPC_ROUTING,
    "FC_RS_005",
    Low,
    "Redshift cluster does not use enhanced VPC routing",
    Some("CKV_AWS_321"),
    ["aws_redshift_cluster"],
    "enhanced_vpc_routing",
    |r| require_flag(r, "enhanced_vpc_routing", true, false),
    "Set enhanced_vpc_routing = true so COPY/UNLOAD traffic stays in the VPC, where flow logs and endpoints apply.",
);

simple_rule!(
    VERSION_UPGRADE,
    "FC_RS_006",
    Low,
    "Redshift cluster does not take version upgrades",
    Some("CKV_AWS_141"),
    ["aws_redshift_cluster"],
    "allow_version_upgrade",
    |r| require_flag(r, "allow_version_upgrade", true, true),
    "Remove allow_version_upgrade = false (the default is true) so security fixes are applied in the maintenance window.",
);

simple_rule!(
    SNAPSHOTS,
    "FC_RS_007",
    Medium,
    "Redshift automated snapshots are disabled",
    Some("CKV_AWS_343"),
    ["aws_redshift_cluster"],
    "automated_snapshot_retention_period",
    |r| forbid_value(r, "automated_snapshot_retention_period", &["0"]),
    "Set automated_snapshot_retention_period to at least 1 (7 or more for production).",
);

simple_rule!(
    REQUIRE_SSL,
    "FC_RS_008",
    Medium,
    "Redshift parameter group does not require SSL",
    Some("CKV_AWS_105"),
    ["aws_redshift_parameter_group"],
    "parameter",
    require_ssl,
    "Add parameter { name = \"require_ssl\" value = \"true\" } to the cluster's parameter group.",
);

fn logging(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_redshift_cluster"], "logging", |r: &Resource| {
        match setting(r, "logging.enable") {
            Setting::Absent => {}
            s => return (s.as_bool() == Some(false)).then(|| "logging.enable = false".into()),
        }
        links(m, "aws_redshift_logging", "cluster_identifier", r, &["cluster_identifier", "id"])
            .none()
            .then(|| "no logging block and no aws_redshift_logging for this cluster".into())
    })
}

fn require_ssl(r: &Resource) -> Option<String> {
    let Some(params) = r.get("parameter") else {
        return Some("no parameters: require_ssl defaults to false".into());
    };
    if !params.is_known() {
        return None;
    }
    let on = params.blocks().iter().any(|p| {
        p.get("name").and_then(Val::as_str) == Some("require_ssl") && p.get("value").and_then(Val::as_text).is_some_and(|v| v.eq_ignore_ascii_case("true"))
    });
    (!on).then(|| "no parameter require_ssl = true".into())
}
