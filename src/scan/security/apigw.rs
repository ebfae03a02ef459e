//! API Gateway: stage access logging and tracing, methods without any
//! authorization, custom-domain TLS policy, cache encryption.

use super::{Hit, Module, Rule, Setting, Severity, each, require_set, require_true, setting, setting_in};
use crate::tf::Val;

pub static ACCESS_LOGGING: Rule = Rule {
    id: "FC_APIGW_001",
    severity: Severity::Medium,
    title: "API Gateway stage has no access logging",
    checkov_id: Some("CKV_AWS_76"),
    fix: "Add access_log_settings { destination_arn = <log group ARN>, format = … } to the stage.",
    check: access_logging,
};

pub static XRAY: Rule = Rule {
    id: "FC_APIGW_002",
    severity: Severity::Low,
    title: "API Gateway stage does not have X-Ray tracing",
    checkov_id: Some("CKV_AWS_73"),
    fix: "Set xray_tracing_enabled = true on the stage.",
    check: xray,
};

pub static OPEN_METHOD: Rule = Rule {
    id: "FC_APIGW_003",
    severity: Severity::Medium,
    title: "API Gateway method has no authorization and no API key",
    checkov_id: Some("CKV_AWS_59"),
    fix: "Set authorization to AWS_IAM, COGNITO_USER_POOLS or CUSTOM (with an authorizer), or require an API key; mark truly public methods with faber:ignore and a reason.",
    check: open_method,
};

pub static DOMAIN_TLS: Rule = Rule {
    id: "FC_APIGW_004",
    severity: Severity::Medium,
    title: "API Gateway custom domain allows TLS older than 1.2",
    checkov_id: Some("CKV_AWS_206"),
    fix: "Set security_policy = \"TLS_1_2\" (or a SecurityPolicy_TLS13_* policy).",
    check: domain_tls,
};

pub static CACHE_ENCRYPTION: Rule = Rule {
    id: "FC_APIGW_005",
    severity: Severity::Medium,
    title: "API Gateway cache is not encrypted",
    checkov_id: Some("CKV_AWS_308"),
    fix: "Set settings { cache_data_encrypted = true } wherever caching_enabled = true.",
    check: cache_encryption,
};

fn access_logging(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_api_gateway_stage", "aws_apigatewayv2_stage"], "access_log_settings", |r| require_set(r, "access_log_settings.destination_arn"))
}

fn xray(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_api_gateway_stage"], "xray_tracing_enabled", |r| require_true(r, "xray_tracing_enabled"))
}

fn open_method(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_api_gateway_method"], "authorization", |r| {
        let method = setting(r, "http_method").as_str()?;
        let none = setting(r, "authorization").as_str() == Some("NONE");
        let key = setting(r, "api_key_required");
        let no_key = key.is_absent() || key.as_bool() == Some(false);
        (method != "OPTIONS" && none && no_key).then(|| format!("{method} has authorization = \"NONE\" and no API key"))
    })
}

fn domain_tls(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_api_gateway_domain_name"], "security_policy", |r| match setting(r, "security_policy") {
        Setting::Absent => Some("security_policy is not set (the default allows TLS 1.0)".into()),
        s => s
            .as_str()
            .filter(|p| !(*p == "TLS_1_2" || p.starts_with("SecurityPolicy_TLS12") || p.starts_with("SecurityPolicy_TLS13")))
            .map(|p| format!("security_policy = \"{p}\"")),
    })
}

fn cache_encryption(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_api_gateway_method_settings"], "settings", |r| {
        let settings = r.get("settings").map(Val::blocks).unwrap_or_default();
        settings
            .iter()
            .any(|s| setting_in(s, "caching_enabled").as_bool() == Some(true) && setting_in(s, "cache_data_encrypted").absent_or_false())
            .then(|| "caching_enabled = true without cache_data_encrypted = true".into())
    })
}

super::simple_rule!(
    V2_ROUTE_AUTH,
    "FC_APIGW_006",
    Medium,
    "API Gateway v2 route has no authorization",
    Some("CKV_AWS_309"),
    ["aws_apigatewayv2_route"],
    "authorization_type",
    |r| match setting(r, "authorization_type") {
        Setting::Absent => Some("authorization_type is not set (the default is NONE)".into()),
        s => s.as_str().filter(|t| t.eq_ignore_ascii_case("NONE")).map(|_| "authorization_type = \"NONE\"".into()),
    },
    "Set authorization_type (\"JWT\", \"AWS_IAM\" or \"CUSTOM\") with an authorizer; a route meant to be public should say so with a suppression and a reason.",
);

super::simple_rule!(
    REQUEST_VALIDATION,
    "FC_APIGW_007",
    Low,
    "API Gateway method does not validate requests",
    // CORS preflight (OPTIONS) methods have nothing to validate and are not reported; Checkov reports them.
    Some("CKV2_AWS_53"),
    ["aws_api_gateway_method"],
    "request_validator_id",
    |r| if setting(r, "http_method").as_str().is_some_and(|m| m.eq_ignore_ascii_case("OPTIONS")) { None } else { require_set(r, "request_validator_id") },
    "Add an aws_api_gateway_request_validator (validate_request_body and validate_request_parameters) and set request_validator_id, with a request model for bodies.",
);
