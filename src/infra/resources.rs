//! show-resources: what is deployed in an environment — from the deployment
//! registry when there is one, otherwise from the Terraform state
//! (`terraform show -json`): type, name, ID, ARN, console link, and a short
//! configuration summary per resource.

use serde::Serialize;
use serde_json::Value;

use crate::config::Config;
use crate::error::Error;
use crate::iac::terraform::{self, Terraform};
use crate::infra::{console, registry, validate};
use crate::workspace::Workspace;

#[derive(Debug, Serialize)]
pub struct DeployedResource {
    pub address: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub name: Option<String>,
    pub id: Option<String>,
    pub arn: Option<String>,
    pub console_url: Option<String>,
    /// When it was deployed (known from the registry only).
    pub deployed_at: Option<String>,
    /// A few attributes that say what it is (`runtime`, `memory_size`, …).
    pub configuration: serde_json::Map<String, Value>,
}

#[derive(Debug, Serialize)]
pub struct ResourcesReport {
    pub env: String,
    /// `registry` or `state`.
    pub source: &'static str,
    pub count: usize,
    pub resources: Vec<DeployedResource>,
}

/// The attribute that names a resource of each type (as the console knows it).
fn name_attr(kind: &str) -> &'static str {
    match kind {
        "aws_s3_bucket" => "bucket",
        "aws_lambda_function" => "function_name",
        "aws_db_instance" => "identifier",
        "aws_cloudwatch_metric_alarm" => "alarm_name",
        _ => "name",
    }
}

/// Attributes worth showing per type.
fn summary_attrs(kind: &str) -> &'static [&'static str] {
    match kind {
        "aws_lambda_function" => &["runtime", "memory_size", "timeout", "handler"],
        "aws_db_instance" => &["engine", "engine_version", "instance_class", "allocated_storage", "multi_az", "publicly_accessible"],
        "aws_dynamodb_table" => &["billing_mode", "hash_key", "range_key"],
        "aws_sqs_queue" => &["visibility_timeout_seconds", "message_retention_seconds"],
        "aws_cloudwatch_log_group" => &["retention_in_days"],
        "aws_s3_bucket_versioning" => &["versioning_configuration"],
        "aws_apigatewayv2_api" => &["protocol_type", "api_endpoint"],
        "aws_cloudwatch_metric_alarm" => &["metric_name", "threshold", "comparison_operator"],
        "aws_cloudfront_distribution" => &["domain_name", "enabled"],
        _ => &[],
    }
}

/// One managed resource of a `terraform show -json` state.
pub struct StateResource<'a> {
    pub address: &'a str,
    pub kind: &'a str,
    pub values: &'a Value,
}

/// Every managed resource of a state, child modules included.
pub fn state_resources(state: &Value) -> Vec<StateResource<'_>> {
    fn walk<'a>(m: &'a Value, out: &mut Vec<StateResource<'a>>) {
        for r in m.get("resources").and_then(Value::as_array).into_iter().flatten() {
            if r.get("mode").and_then(Value::as_str) != Some("managed") {
                continue;
            }
            let s = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("");
            out.push(StateResource { address: s("address"), kind: s("type"), values: r.get("values").unwrap_or(&Value::Null) });
        }
        for child in m.get("child_modules").and_then(Value::as_array).into_iter().flatten() {
            walk(child, out);
        }
    }
    let mut out = Vec::new();
    if let Some(root) = state.pointer("/values/root_module") {
        walk(root, &mut out);
    }
    out
}

/// A state resource as shown: name, id, ARN, console link, configuration summary.
pub fn describe(r: &StateResource<'_>, region: &str) -> DeployedResource {
    let s = |k: &str| r.values.get(k).and_then(Value::as_str).filter(|v| !v.is_empty()).map(str::to_string);
    let name = s(name_attr(r.kind));
    let id = s("id");
    let arn = s("arn");
    let console_url = console::url(r.kind, name.as_deref(), id.as_deref(), arn.as_deref(), region);
    let configuration = summary_attrs(r.kind).iter().filter_map(|k| r.values.get(*k).filter(|v| !v.is_null()).map(|v| (k.to_string(), v.clone()))).collect();
    DeployedResource { address: r.address.to_string(), kind: r.kind.to_string(), name, id, arn, console_url, deployed_at: None, configuration }
}

fn from_state(state: &Value, region: &str) -> Vec<DeployedResource> {
    state_resources(state).iter().map(|r| describe(r, region)).collect()
}

pub async fn run(ws: &Workspace, config: &Config, env: &str) -> Result<ResourcesReport, Error> {
    let region = config.region();
    if let Some(registry) = registry::load(ws, env)? {
        let resources: Vec<DeployedResource> = registry
            .resources
            .into_iter()
            .map(|e| DeployedResource {
                address: e.address,
                kind: e.kind,
                name: e.name,
                id: e.id,
                arn: e.arn,
                console_url: e.console_url,
                deployed_at: Some(e.updated),
                configuration: e.configuration,
            })
            .collect();
        return Ok(ResourcesReport { env: env.into(), source: "registry", count: resources.len(), resources });
    }
    let dir = validate::directory(ws.project_dir(), config)?;
    let _lock = terraform::lock(ws, env)?;
    let terraform = Terraform::for_env(config, &dir, env);
    terraform.init_env(env).await?;
    let state = terraform.state().await?;
    let resources = from_state(&state, region);
    Ok(ResourcesReport { env: env.into(), source: "state", count: resources.len(), resources })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_recorded_state() {
        let path =
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/terraform/state/aws/show-json-state-ec2-rds-modules.tf0.14.11.json");
        let state: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap();
        let resources = from_state(&state, "us-east-1");
        assert!(!resources.is_empty());
        assert!(resources.iter().all(|r| !r.address.is_empty() && !r.kind.is_empty()));
        assert!(resources.iter().any(|r| r.address.starts_with("module.")), "child modules are walked");
    }
}
