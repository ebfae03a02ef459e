//! show-resources: what is deployed in an environment — from the deployment
//! registry when there is one, otherwise from the Terraform state
//! (`terraform show -json`): type, name, ID, ARN, console link, and a short
//! configuration summary per resource.

use serde::Serialize;
use serde_json::Value;

use crate::config::Config;
use crate::error::Error;
use crate::iac::terraform::{self, Terraform};
use crate::infra::{registry, validate};
use crate::vocabulary::Report;
use crate::vocabulary::resource as console;
use crate::workspace::Workspace;

#[derive(Debug, Serialize, schemars::JsonSchema)]
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

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ResourcesReport {
    pub env: String,
    /// `registry` or `state`.
    pub source: &'static str,
    pub count: usize,
    pub resources: Vec<DeployedResource>,
}

impl Report for ResourcesReport {
    fn text(&self) -> String {
        const SHOWN: usize = 50;
        let mut lines: Vec<String> = self
            .resources
            .iter()
            .take(SHOWN)
            .map(|r| {
                let link = r.console_url.as_deref().map(|u| format!(" {u}")).unwrap_or_default();
                format!("{} {} ({}){link}", r.kind, r.name.as_deref().or(r.id.as_deref()).unwrap_or("-"), r.arn.as_deref().or(r.id.as_deref()).unwrap_or("-"))
            })
            .collect();
        if let Some(more) = crate::vocabulary::report::more(SHOWN, self.count, "resource(s)") {
            lines.push(more);
        }
        format!("{} resource(s) deployed in {} (from the {}):\n{}", self.count, self.env, self.source, lines.join("\n"))
    }
}

/// The attribute that names a resource of each type (as the console knows it).
fn name_attr(kind: &str) -> &'static str {
    console::name_attr(kind)
}

/// Attributes worth showing per type.
fn summary_attrs(kind: &str) -> &'static [&'static str] {
    console::lookup(kind).map_or(&[], |t| t.summary_attrs)
}

/// One managed resource of a `terraform show -json` state.
#[derive(Clone, Copy)]
pub struct StateResource<'a> {
    pub address: &'a str,
    pub kind: &'a str,
    pub values: &'a Value,
}

/// Every managed resource of a state, child modules included.
pub fn state_resources(state: &Value) -> Vec<StateResource<'_>> {
    managed_entries(state)
        .into_iter()
        .map(|r| {
            let s = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("");
            StateResource { address: s("address"), kind: s("type"), values: r.get("values").unwrap_or(&Value::Null) }
        })
        .collect()
}

/// The entries (`address`, `mode`, `type`, `name`, `values`, …) of every managed resource of a state in
/// `terraform show -json` form, child modules included.
pub fn managed_entries(state: &Value) -> Vec<&Value> {
    fn walk<'a>(m: &'a Value, out: &mut Vec<&'a Value>) {
        for r in m.get("resources").and_then(Value::as_array).into_iter().flatten() {
            if r.get("mode").and_then(Value::as_str) == Some("managed") {
                out.push(r);
            }
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
