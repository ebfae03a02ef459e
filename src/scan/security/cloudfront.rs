//! CloudFront distributions: viewer TLS version and HTTPS, origin protocol,
//! access logging, WAF.

use super::{Hit, Module, Rule, Setting, Severity, each, require_set, setting, setting_in};
use crate::tf::Val;

pub static TLS: Rule = Rule {
    id: "FC_CF_001",
    severity: Severity::Medium,
    title: "CloudFront distribution allows TLS older than 1.2",
    checkov_id: Some("CKV_AWS_174"),
    fix: "Use an ACM certificate with viewer_certificate { minimum_protocol_version = \"TLSv1.2_2021\", ssl_support_method = \"sni-only\" }.",
    check: tls,
};

pub static VIEWER_HTTPS: Rule = Rule {
    id: "FC_CF_002",
    severity: Severity::Medium,
    title: "CloudFront cache behavior allows plain HTTP",
    checkov_id: Some("CKV_AWS_34"),
    fix: "Set viewer_protocol_policy = \"redirect-to-https\" (or \"https-only\") on every cache behavior.",
    check: viewer_https,
};

pub static LOGGING: Rule = Rule {
    id: "FC_CF_003",
    severity: Severity::Low,
    title: "CloudFront distribution has no access logging",
    checkov_id: Some("CKV_AWS_86"),
    fix: "Add logging_config { bucket = \"<log bucket>.s3.amazonaws.com\" }.",
    check: logging,
};

pub static WAF: Rule = Rule {
    id: "FC_CF_004",
    severity: Severity::Low,
    title: "CloudFront distribution has no WAF web ACL",
    checkov_id: Some("CKV_AWS_68"),
    fix: "Set web_acl_id to an aws_wafv2_web_acl (scope CLOUDFRONT) ARN.",
    check: waf,
};

pub static ORIGIN_HTTPS: Rule = Rule {
    id: "FC_CF_005",
    severity: Severity::Medium,
    title: "CloudFront talks to a custom origin over plain HTTP",
    checkov_id: None,
    fix: "Set custom_origin_config { origin_protocol_policy = \"https-only\", origin_ssl_protocols = [\"TLSv1.2\"] }.",
    check: origin_https,
};

const DISTRIBUTIONS: &[&str] = &["aws_cloudfront_distribution"];

fn tls(m: &Module) -> Vec<Hit<'_>> {
    each(m, DISTRIBUTIONS, "viewer_certificate", |r| {
        if setting(r, "viewer_certificate").is_absent() {
            return Some("no viewer_certificate".into());
        }
        if setting(r, "viewer_certificate.cloudfront_default_certificate").as_bool() == Some(true) {
            return Some("the default *.cloudfront.net certificate accepts TLSv1".into());
        }
        match setting(r, "viewer_certificate.minimum_protocol_version") {
            Setting::Absent => Some("minimum_protocol_version is not set (the default is TLSv1)".into()),
            s => s.as_str().filter(|v| !(v.starts_with("TLSv1.2_") || v.starts_with("TLSv1.3_"))).map(|v| format!("minimum_protocol_version = \"{v}\"")),
        }
    })
}

fn viewer_https(m: &Module) -> Vec<Hit<'_>> {
    each(m, DISTRIBUTIONS, "default_cache_behavior", |r| {
        let mut behaviors: Vec<(String, &std::collections::BTreeMap<String, Val>)> =
            r.get("default_cache_behavior").map(Val::blocks).unwrap_or_default().into_iter().map(|b| ("default_cache_behavior".to_string(), b)).collect();
        for (n, b) in r.get("ordered_cache_behavior").map(Val::blocks).unwrap_or_default().into_iter().enumerate() {
            behaviors.push((format!("ordered_cache_behavior {}", n + 1), b));
        }
        behaviors
            .into_iter()
            .find(|(_, b)| setting_in(b, "viewer_protocol_policy").as_str() == Some("allow-all"))
            .map(|(name, _)| format!("{name} has viewer_protocol_policy = \"allow-all\""))
    })
}

fn logging(m: &Module) -> Vec<Hit<'_>> {
    each(m, DISTRIBUTIONS, "logging_config", |r| require_set(r, "logging_config.bucket"))
}

fn waf(m: &Module) -> Vec<Hit<'_>> {
    each(m, DISTRIBUTIONS, "web_acl_id", |r| require_set(r, "web_acl_id"))
}

fn origin_https(m: &Module) -> Vec<Hit<'_>> {
    each(m, DISTRIBUTIONS, "origin", |r| {
        let origins = r.get("origin").map(Val::blocks).unwrap_or_default();
        origins.iter().find(|o| setting_in(o, "custom_origin_config.origin_protocol_policy").as_str() == Some("http-only")).map(|o| {
            let id = setting_in(o, "origin_id").as_str().unwrap_or("?");
            format!("origin \"{id}\" uses origin_protocol_policy = \"http-only\"")
        })
    })
}
