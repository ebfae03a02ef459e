//! OpenSearch / Elasticsearch domains: encryption at rest and between nodes,
//! HTTPS and its TLS policy, log publishing (application and audit), and
//! placement inside a VPC.

use super::{Resource, Setting, require_flag, require_one_of, setting, simple_rule};
use crate::tf::Val;

simple_rule!(
    AT_REST,
    "FC_ES_001",
    High,
    "OpenSearch domain does not encrypt data at rest",
    Some("CKV_AWS_5"),
    ["aws_opensearch_domain", "aws_elasticsearch_domain"],
    "encrypt_at_rest",
    |r| require_flag(r, "encrypt_at_rest.enabled", true, false),
    "Add encrypt_at_rest { enabled = true } (a new domain is needed for an existing one on old engine versions).",
);

simple_rule!(
    NODE_TO_NODE,
    "FC_ES_002",
    Medium,
    "OpenSearch domain does not encrypt traffic between its nodes",
    // Like Checkov, a single-node domain passes: there is no node-to-node traffic.
    Some("CKV_AWS_6"),
    ["aws_opensearch_domain", "aws_elasticsearch_domain"],
    "node_to_node_encryption",
    node_to_node,
    "Add node_to_node_encryption { enabled = true }.",
);

simple_rule!(
    HTTPS_NOT_ENFORCED,
    "FC_ES_003",
    High,
    "OpenSearch domain accepts plain HTTP",
    Some("CKV_AWS_83"),
    ["aws_opensearch_domain", "aws_elasticsearch_domain"],
    "domain_endpoint_options",
    |r| require_flag(r, "domain_endpoint_options.enforce_https", true, true),
    "Set domain_endpoint_options { enforce_https = true }.",
);

simple_rule!(
    TLS_POLICY,
    "FC_ES_004",
    Medium,
    "OpenSearch domain allows TLS versions older than 1.2",
    Some("CKV_AWS_228"),
    ["aws_opensearch_domain", "aws_elasticsearch_domain"],
    "domain_endpoint_options",
    |r| require_one_of(r, "domain_endpoint_options.tls_security_policy", &["Policy-Min-TLS-1-2-2019-07", "Policy-Min-TLS-1-2-PFS-2023-10"], false),
    "Set domain_endpoint_options { tls_security_policy = \"Policy-Min-TLS-1-2-PFS-2023-10\" }.",
);

simple_rule!(
    LOGGING,
    "FC_ES_005",
    Low,
    "OpenSearch domain publishes no logs to CloudWatch",
    Some("CKV_AWS_84"),
    ["aws_opensearch_domain", "aws_elasticsearch_domain"],
    "log_publishing_options",
    |r| setting(r, "log_publishing_options.cloudwatch_log_group_arn").is_absent().then(|| "no log_publishing_options with a cloudwatch_log_group_arn".into()),
    "Add log_publishing_options { log_type = \"ES_APPLICATION_LOGS\" cloudwatch_log_group_arn = aws_cloudwatch_log_group.search.arn }.",
);

simple_rule!(
    AUDIT_LOGGING,
    "FC_ES_006",
    Medium,
    "OpenSearch domain has no audit log",
    // `enabled` defaults to true in the provider; Checkov wants it written. Ours takes the default.
    Some("CKV_AWS_317"),
    ["aws_opensearch_domain", "aws_elasticsearch_domain"],
    "log_publishing_options",
    audit_logging,
    "Add log_publishing_options { log_type = \"AUDIT_LOGS\" cloudwatch_log_group_arn = … } (audit logs need fine-grained access control).",
);

simple_rule!(
    OUTSIDE_VPC,
    "FC_ES_007",
    Medium,
    "OpenSearch domain has a public endpoint (not inside a VPC)",
    Some("CKV_AWS_137"),
    ["aws_opensearch_domain", "aws_elasticsearch_domain"],
    "vpc_options",
    |r| setting(r, "vpc_options").is_absent().then(|| "no vpc_options: the domain endpoint is public".into()),
    "Add vpc_options { subnet_ids = […] security_group_ids = […] } (a domain cannot be moved into a VPC: it is replaced).",
);

fn node_to_node(r: &Resource) -> Option<String> {
    match setting(r, "cluster_config.instance_count") {
        Setting::Absent | Setting::Unknown => return None,
        s if s.as_num().is_some_and(|n| n <= 1.0) => return None,
        _ => {}
    }
    require_flag(r, "node_to_node_encryption.enabled", true, false)
}

fn audit_logging(r: &Resource) -> Option<String> {
    let Some(options) = r.get("log_publishing_options") else {
        return Some("no log_publishing_options for AUDIT_LOGS".into());
    };
    if !options.is_known() {
        return None;
    }
    let on = options
        .blocks()
        .iter()
        .any(|b| b.get("log_type").and_then(Val::as_str) == Some("AUDIT_LOGS") && b.get("enabled").and_then(Val::as_bool) != Some(false));
    (!on).then(|| "no enabled log_publishing_options for AUDIT_LOGS".into())
}
