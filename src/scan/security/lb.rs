//! Load balancers beyond the HTTP listener rule in `network.rs`: classic ELB
//! listeners and access logs; ALB/NLB access logs, invalid headers, desync
//! mitigation, deletion protection; TLS policies of HTTPS/TLS listeners.

use super::{Resource, Setting, forbid_value, require_flag, setting, setting_in, simple_rule};
use crate::tf::Val;

simple_rule!(
    CLASSIC_PLAIN_LISTENER,
    "FC_ELB_002",
    Medium,
    "Classic load balancer listener accepts plain HTTP or TCP",
    // Checkov's CKV_AWS_376 looks at the instance (back-end) protocol instead; the
    // front-end protocol is what clients send their data over.
    None,
    ["aws_elb"],
    "listener",
    classic_plain_listener,
    "Serve clients with lb_protocol = \"HTTPS\" (or \"SSL\") and an ACM certificate (ssl_certificate_id); move to an ALB to redirect HTTP to HTTPS.",
);

simple_rule!(
    CLASSIC_ACCESS_LOGS,
    "FC_ELB_003",
    Low,
    "Classic load balancer writes no access logs",
    Some("CKV_AWS_92"),
    ["aws_elb"],
    "access_logs",
    |r| match setting(r, "access_logs") {
        Setting::Absent => Some("no access_logs block".into()),
        _ => require_flag(r, "access_logs.enabled", true, true),
    },
    "Add access_logs { bucket = aws_s3_bucket.lb_logs.id enabled = true }.",
);

simple_rule!(
    ACCESS_LOGS,
    "FC_ELB_004",
    Low,
    "Load balancer writes no access logs",
    Some("CKV_AWS_91"),
    ["aws_lb", "aws_alb"],
    "access_logs",
    |r| if lb_type(r) == Some("gateway") { None } else { require_flag(r, "access_logs.enabled", true, false) },
    "Add access_logs { bucket = aws_s3_bucket.lb_logs.id enabled = true }.",
);

simple_rule!(
    INVALID_HEADERS,
    "FC_ELB_005",
    Medium,
    "Application load balancer forwards invalid HTTP headers",
    Some("CKV_AWS_131"),
    ["aws_lb", "aws_alb"],
    "drop_invalid_header_fields",
    |r| if lb_type(r) == Some("application") { require_flag(r, "drop_invalid_header_fields", true, false) } else { None },
    "Set drop_invalid_header_fields = true (protects the targets from header smuggling).",
);

simple_rule!(
    DESYNC_MONITOR,
    "FC_ELB_006",
    Medium,
    "Load balancer only monitors HTTP desync attacks",
    Some("CKV_AWS_328"),
    ["aws_lb", "aws_alb", "aws_elb"],
    "desync_mitigation_mode",
    |r| forbid_value(r, "desync_mitigation_mode", &["monitor"]),
    "Set desync_mitigation_mode = \"defensive\" (the default) or \"strictest\".",
);

simple_rule!(
    DELETION_PROTECTION,
    "FC_ELB_007",
    Low,
    "Load balancer has no deletion protection",
    Some("CKV_AWS_150"),
    ["aws_lb", "aws_alb"],
    "enable_deletion_protection",
    |r| require_flag(r, "enable_deletion_protection", true, false),
    "Set enable_deletion_protection = true on production load balancers.",
);

simple_rule!(
    LISTENER_TLS_POLICY,
    "FC_ELB_008",
    Medium,
    "Load balancer listener allows TLS versions older than 1.2",
    // Checkov's CKV_AWS_103 also fails plain HTTP listeners; ours leaves those to FC_ELB_001.
    Some("CKV_AWS_103"),
    ["aws_lb_listener", "aws_alb_listener"],
    "ssl_policy",
    listener_tls_policy,
    "Set ssl_policy = \"ELBSecurityPolicy-TLS13-1-2-2021-06\" (TLS 1.2 and 1.3 only).",
);

/// `application` when unset, as the provider does.
fn lb_type(r: &Resource) -> Option<&str> {
    match setting(r, "load_balancer_type") {
        Setting::Absent => Some("application"),
        s => s.as_str(),
    }
}

fn classic_plain_listener(r: &Resource) -> Option<String> {
    let listeners = r.get("listener")?;
    listeners.blocks().iter().find_map(|l| {
        let protocol = setting_in(l, "lb_protocol").as_str()?;
        matches!(protocol.to_ascii_lowercase().as_str(), "http" | "tcp")
            .then(|| format!("a listener takes lb_protocol = \"{protocol}\" on port {}", port(l.get("lb_port"))))
    })
}

fn port(v: Option<&Val>) -> String {
    v.and_then(Val::as_text).map(|p| p.into_owned()).unwrap_or_else(|| "?".into())
}

/// Policy name prefixes that allow only TLS 1.2 and later.
const MODERN_TLS: [&str; 3] = ["ELBSecurityPolicy-TLS13", "ELBSecurityPolicy-TLS-1-2", "ELBSecurityPolicy-FS-1-2"];

fn listener_tls_policy(r: &Resource) -> Option<String> {
    let protocol = setting(r, "protocol").as_str()?;
    if !matches!(protocol.to_ascii_uppercase().as_str(), "HTTPS" | "TLS") {
        return None;
    }
    match setting(r, "ssl_policy") {
        Setting::Absent => Some("ssl_policy is not set (the default ELBSecurityPolicy-2016-08 allows TLS 1.0)".into()),
        s => s.as_str().filter(|p| !MODERN_TLS.iter().any(|m| p.starts_with(m))).map(|p| format!("ssl_policy = \"{p}\" allows TLS before 1.2")),
    }
}

pub static NO_WAF: super::Rule = super::Rule {
    id: "FC_ELB_009",
    severity: super::Severity::Medium,
    title: "Internet-facing application load balancer has no WAF",
    checkov_id: Some("CKV2_AWS_28"),
    fix: "Associate an AWS WAF web ACL (aws_wafv2_web_acl_association) with managed rule groups for the load balancer.",
    check: no_waf,
};

fn no_waf(m: &crate::tf::Module) -> Vec<super::Hit<'_>> {
    super::each(m, &["aws_lb", "aws_alb"], "", |r| {
        let internal = setting(r, "internal");
        if lb_type(r) != Some("application") || !(internal.is_absent() || internal.as_bool() == Some(false)) {
            return None;
        }
        let ids = ["arn", "id"];
        let waf = super::links(m, "aws_wafv2_web_acl_association", "resource_arn", r, &ids);
        let regional = super::links(m, "aws_wafregional_web_acl_association", "resource_arn", r, &ids);
        (waf.none() && regional.none()).then(|| "no aws_wafv2_web_acl_association for this load balancer".into())
    })
}
