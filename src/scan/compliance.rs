//! Compliance with the project's conventions: resource names follow
//! `resource_naming.pattern`, and every taggable resource carries the required
//! tags (directly or through the provider's `default_tags`). Pure.

use std::collections::BTreeSet;

use crate::config::Config;
use crate::config::pattern::{self, PatternValues};
use crate::tf::{Module, Resource, Val};

use super::{Finding, Severity};

/// The attribute holding each type's AWS name, and a fixed prefix to drop first.
const NAME_ATTRS: &[(&str, &str, &str)] = &[
    ("aws_s3_bucket", "bucket", ""),
    ("aws_lambda_function", "function_name", ""),
    ("aws_dynamodb_table", "name", ""),
    ("aws_db_instance", "identifier", ""),
    ("aws_sqs_queue", "name", ""),
    ("aws_sns_topic", "name", ""),
    ("aws_cognito_user_pool", "name", ""),
    ("aws_iam_role", "name", ""),
    ("aws_apigatewayv2_api", "name", ""),
    ("aws_api_gateway_rest_api", "name", ""),
    ("aws_cloudwatch_event_rule", "name", ""),
    ("aws_secretsmanager_secret", "name", ""),
    ("aws_cloudwatch_metric_alarm", "alarm_name", ""),
    ("aws_kms_alias", "name", "alias/"),
    // Log group names are paths (`/aws/lambda/<function>`): the last segment is the name.
    ("aws_cloudwatch_log_group", "name", "/"),
    ("aws_ecs_cluster", "name", ""),
    ("aws_ecs_service", "name", ""),
    ("aws_lb", "name", ""),
    ("aws_security_group", "name", ""),
    ("aws_elasticache_cluster", "cluster_id", ""),
];

/// Resource types that take tags (the common ones; others are not checked).
const TAGGABLE: &[&str] = &[
    "aws_s3_bucket",
    "aws_lambda_function",
    "aws_dynamodb_table",
    "aws_db_instance",
    "aws_sqs_queue",
    "aws_sns_topic",
    "aws_cognito_user_pool",
    "aws_iam_role",
    "aws_apigatewayv2_api",
    "aws_apigatewayv2_stage",
    "aws_api_gateway_rest_api",
    "aws_cloudwatch_event_rule",
    "aws_secretsmanager_secret",
    "aws_cloudwatch_metric_alarm",
    "aws_kms_key",
    "aws_cloudwatch_log_group",
    "aws_ecs_cluster",
    "aws_ecs_service",
    "aws_lb",
    "aws_security_group",
    "aws_instance",
    "aws_ebs_volume",
    "aws_vpc",
    "aws_subnet",
    "aws_cloudfront_distribution",
    "aws_elasticache_cluster",
    "aws_nat_gateway",
];

/// The tags every resource gets from faber-cloud plus the configured ones.
pub fn required_tags(config: &Config) -> Vec<String> {
    let mut tags: Vec<String> = ["Project", "Subsystem", "Environment", "ManagedBy"].iter().map(|s| s.to_string()).collect();
    for name in config.tagging.required.names() {
        if !tags.iter().any(|t| t == name) {
            tags.push(name.to_string());
        }
    }
    tags
}

/// Naming and tagging findings for `env`.
pub fn check(module: &Module, config: &Config, env: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    naming(module, config, env, &mut out);
    tagging(module, &required_tags(config), &mut out);
    out
}

fn finding(r: &Resource, rule: &str, key: &str, title: &str, message: String, fix: String) -> Finding {
    Finding {
        rule_id: rule.into(),
        severity: Severity::Medium,
        title: title.into(),
        checkov_id: None,
        resource: r.address.clone(),
        file: r.file.clone(),
        line: r.line_of(key),
        message,
        fix,
        source: "faber-cloud".into(),
    }
}

fn naming(module: &Module, config: &Config, env: &str, out: &mut Vec<Finding>) {
    let pattern_text = &config.resource_naming.pattern;
    let values = config.pattern_values(env);
    for r in module.resources.iter().filter(|r| !r.data) {
        let Some((_, attr, prefix)) = NAME_ATTRS.iter().find(|(kind, _, _)| *kind == r.kind) else { continue };
        // Unknown names (from other resources or unset variables) cannot be judged.
        let Some(Val::Str(name)) = r.get(attr) else { continue };
        let name = match *prefix {
            "/" => name.rsplit('/').next().unwrap_or(name),
            prefix => name.strip_prefix(prefix).unwrap_or(name),
        };
        if !matches_pattern(pattern_text, &values, name) {
            let example = pattern::substitute(pattern_text, &PatternValues { resource: Some("<resource>"), ..values }).unwrap_or_default();
            out.push(finding(
                r,
                "FC_NAME_001",
                attr,
                "Name does not follow the naming pattern",
                format!("{attr} \"{name}\" does not match resource_naming.pattern {pattern_text} (expected {example})"),
                format!("rename to {example}, e.g. with \"${{var.project}}-${{var.subsystem}}-${{var.environment}}-<resource>\""),
            ));
        }
    }
}

/// Whether `name` is the pattern with some resource name in `{resource}`.
fn matches_pattern(pattern_text: &str, values: &PatternValues<'_>, name: &str) -> bool {
    const MARK: &str = "\u{1}";
    let Ok(template) = pattern::substitute(pattern_text, &PatternValues { resource: Some(MARK), ..*values }) else { return false };
    let Some((before, after)) = template.split_once(MARK) else { return template == name };
    name.len() > before.len() + after.len()
        && name.starts_with(before)
        && name.ends_with(after)
        && name[before.len()..name.len() - after.len()].chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

fn tagging(module: &Module, required: &[String], out: &mut Vec<Finding>) {
    let defaults: BTreeSet<String> = module
        .providers
        .iter()
        .filter(|p| p.name == "aws")
        .filter_map(|p| p.attrs.get("default_tags"))
        .filter_map(|d| d.first_block())
        .filter_map(|b| b.get("tags"))
        .filter_map(|t| t.first_block())
        .flat_map(|m| m.keys().cloned())
        .collect();
    for r in module.resources.iter().filter(|r| !r.data && TAGGABLE.contains(&r.kind.as_str())) {
        let own: BTreeSet<String> =
            r.get("tags").or_else(|| r.get("tags_all")).and_then(|t| t.first_block()).map(|m| m.keys().cloned().collect()).unwrap_or_default();
        // Tags that come from an expression we cannot read are given the benefit of the doubt.
        if matches!(r.get("tags"), Some(Val::Unknown(_) | Val::Ref(_))) {
            continue;
        }
        let missing: Vec<&str> = required.iter().map(String::as_str).filter(|t| !own.contains(*t) && !defaults.contains(*t)).collect();
        if !missing.is_empty() {
            out.push(finding(
                r,
                "FC_TAG_001",
                "tags",
                "Required tags missing",
                format!("missing tag(s) {}", missing.join(", ")),
                "add them to the provider's default_tags (or to the resource's tags)".into(),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::InitOptions;
    use crate::tf::load_sources;
    use crate::workspace::Workspace;

    fn config() -> Config {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::at(dir.path().join("shop"));
        Config::init(&ws, &InitOptions::default()).unwrap()
    }

    fn rules(hcl: &str) -> Vec<(String, String)> {
        let m = load_sources(&[("main.tf".into(), hcl.into())]).unwrap();
        check(&m, &config(), "test").into_iter().map(|f| (f.rule_id, f.resource)).collect()
    }

    const PROVIDER: &str = r#"
provider "aws" {
  default_tags {
    tags = { Project = "shop", Subsystem = "core", Environment = "test", ManagedBy = "faber-cloud" }
  }
}
"#;

    #[test]
    fn names_follow_the_pattern() {
        let ok = format!(
            "{PROVIDER}\nvariable \"environment\" {{ default = \"test\" }}\nresource \"aws_s3_bucket\" \"a\" {{ bucket = \"shop-core-${{var.environment}}-uploads\" }}\nresource \"aws_cloudwatch_log_group\" \"l\" {{ name = \"/aws/lambda/shop-core-test-api\" }}"
        );
        assert_eq!(rules(&ok), []);
        let bad = format!(
            "{PROVIDER}\nresource \"aws_s3_bucket\" \"a\" {{ bucket = \"my-uploads\" }}\nresource \"aws_sqs_queue\" \"q\" {{ name = \"shop-core-prod-jobs\" }}"
        );
        assert_eq!(rules(&bad), [("FC_NAME_001".to_string(), "aws_s3_bucket.a".to_string()), ("FC_NAME_001".into(), "aws_sqs_queue.q".into())]);
        // Unknown names are not judged.
        assert_eq!(rules(&format!("{PROVIDER}\nresource \"aws_s3_bucket\" \"a\" {{ bucket = var.name }}")), []);
    }

    #[test]
    fn tags_come_from_default_tags_or_the_resource() {
        assert_eq!(rules(&format!("{PROVIDER}\nresource \"aws_sqs_queue\" \"q\" {{}}")), []);
        let none = "resource \"aws_sqs_queue\" \"q\" {}\nresource \"aws_iam_role_policy\" \"p\" {}";
        assert_eq!(rules(none), [("FC_TAG_001".to_string(), "aws_sqs_queue.q".to_string())]);
        let own = "resource \"aws_sqs_queue\" \"q\" {\n  tags = { Project = \"x\", Subsystem = \"c\", Environment = \"t\", ManagedBy = \"m\" }\n}";
        assert_eq!(rules(own), []);
    }
}
