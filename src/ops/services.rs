//! Which concrete resources a service name means. Services come from the
//! deployment registry and, for resources deployed by other means, from AWS
//! by the naming pattern's prefix (`{project}-{subsystem}-{env}-`). A
//! service's short name is its resource name without that prefix.
//!
//! [`select`] (pure) matches a user's name: the AWS name exactly; a short name
//! as a prefix ("api" → every service named "api" or "api-…", so "the API
//! service" is all of them); a stem with a kind word ("api-lambda" → the
//! Lambda function of "api…"). An unknown name gets the list.

use serde::Serialize;

use crate::cloud::Cloud;
use crate::cloud::runtime::{self, Found};
use crate::config::Config;
use crate::error::Error;
use crate::infra::registry::Registry;

/// What kind of runtime resource a service is.
pub use crate::vocabulary::resource::ServiceKind as Kind;

/// Words a user may add to a name to say the kind ("api-lambda", "orders-queue").
fn words(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Lambda => &["lambda", "function", "fn", "worker"],
        Kind::HttpApi | Kind::RestApi => &["api", "gateway"],
        Kind::EcsService => &["ecs", "container", "task"],
        Kind::Rds => &["db", "database", "rds", "postgres", "mysql"],
        Kind::Sqs => &["queue", "sqs"],
        Kind::Dynamodb => &["table", "dynamodb", "ddb"],
    }
}

/// One service of an environment.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Service {
    /// The resource name without the naming prefix ("api-handler").
    pub name: String,
    pub kind: Kind,
    /// The AWS name: function, queue, table, DB identifier, API name, ECS service.
    pub resource: String,
    /// API id, ECS cluster, queue URL.
    pub id: Option<String>,
    pub arn: Option<String>,
    /// Where its logs are.
    pub log_groups: Vec<String>,
    /// Lambda timeout in seconds, when known (registry configuration).
    pub timeout_secs: Option<f64>,
    /// registry or discovered.
    pub source: &'static str,
}

impl Service {
    /// The CloudWatch dimensions that identify it.
    pub fn dimensions(&self) -> Vec<(String, String)> {
        let d = |k: &str, v: &str| (k.to_string(), v.to_string());
        match self.kind {
            Kind::Lambda => vec![d("FunctionName", &self.resource)],
            Kind::HttpApi => vec![d("ApiId", self.id.as_deref().unwrap_or(&self.resource))],
            Kind::RestApi => vec![d("ApiName", &self.resource)],
            Kind::EcsService => vec![d("ClusterName", self.cluster().unwrap_or_default()), d("ServiceName", &self.resource)],
            Kind::Rds => vec![d("DBInstanceIdentifier", &self.resource)],
            Kind::Sqs => vec![d("QueueName", &self.resource)],
            Kind::Dynamodb => vec![d("TableName", &self.resource)],
        }
    }

    /// The ECS cluster name (from the cluster ARN or the service ARN).
    pub fn cluster(&self) -> Option<&str> {
        if self.kind != Kind::EcsService {
            return None;
        }
        let id = self.id.as_deref().or(self.arn.as_deref())?;
        let rest = id.split(':').nth(5).unwrap_or(id);
        let parts: Vec<&str> = rest.split('/').collect();
        match parts.as_slice() {
            ["cluster", name] | ["service", name, _] => Some(name),
            [name] => Some(name),
            _ => None,
        }
    }
}

/// `{project}-{subsystem}-{env}-`: what every resource name of `env` starts with (empty when the pattern does not end with `{resource}`).
pub fn prefix(config: &Config, env: &str) -> String {
    const PROBE: &str = "zzfabercloudprobe";
    config.resource_name(env, PROBE).ok().and_then(|n| n.strip_suffix(PROBE).map(str::to_string)).unwrap_or_default()
}

fn short(prefix: &str, resource: &str) -> String {
    let name = resource.rsplit('/').next().unwrap_or(resource);
    name.strip_prefix(prefix).filter(|s| !s.is_empty()).unwrap_or(name).to_string()
}

/// The services of a registry.
pub fn from_registry(registry: &Registry, prefix: &str) -> Vec<Service> {
    let groups: Vec<&str> = registry.resources.iter().filter(|e| e.kind == "aws_cloudwatch_log_group").filter_map(|e| e.name.as_deref()).collect();
    registry
        .resources
        .iter()
        .filter_map(|e| {
            let kind = crate::vocabulary::resource::service_kind(&e.kind)?;
            let resource = e.name.clone().or_else(|| e.id.clone())?;
            let log_groups = match kind {
                Kind::Lambda => vec![format!("/aws/lambda/{resource}")],
                Kind::HttpApi | Kind::RestApi | Kind::EcsService => {
                    groups.iter().filter(|g| g.ends_with(&format!("/{resource}")) || g.contains(&format!("/{resource}/"))).map(|g| g.to_string()).collect()
                }
                _ => Vec::new(),
            };
            let id = match kind {
                Kind::HttpApi | Kind::RestApi | Kind::Sqs => e.id.clone(),
                Kind::EcsService => e.configuration.get("cluster").and_then(|v| v.as_str()).map(str::to_string).or_else(|| e.id.clone()),
                _ => None,
            };
            Some(Service {
                name: short(prefix, &resource),
                kind,
                id,
                arn: e.arn.clone(),
                log_groups,
                timeout_secs: e.configuration.get("timeout").and_then(serde_json::Value::as_f64),
                resource,
                source: "registry",
            })
        })
        .collect()
}

/// Services found in AWS by prefix.
pub fn from_found(found: &[Found], prefix: &str) -> Vec<Service> {
    found
        .iter()
        .map(|f| {
            let kind = f.kind;
            let log_groups = if kind == Kind::Lambda { vec![format!("/aws/lambda/{}", f.name)] } else { Vec::new() };
            Service {
                name: short(prefix, &f.name),
                kind,
                resource: f.name.clone(),
                id: f.id.clone(),
                arn: f.arn.clone(),
                log_groups,
                timeout_secs: None,
                source: "discovered",
            }
        })
        .collect()
}

/// The services `wanted` names among `all` (all of them when `wanted` is None).
pub fn select(all: &[Service], wanted: Option<&str>) -> Result<Vec<Service>, Error> {
    let Some(wanted) = wanted else {
        return Ok(all.to_vec());
    };
    let named = |stem: &str| -> Vec<Service> { all.iter().filter(|s| s.name == stem || s.name.starts_with(&format!("{stem}-"))).cloned().collect() };
    // The AWS name, exactly.
    let exact: Vec<Service> = all.iter().filter(|s| s.resource == wanted).cloned().collect();
    if !exact.is_empty() {
        return Ok(exact);
    }
    // "api": every service named api or api-… ("the API service" is all of them).
    let hits = named(wanted);
    if !hits.is_empty() {
        return Ok(hits);
    }
    // "api-lambda": a stem and a kind word.
    if let Some((stem, word)) = wanted.rsplit_once('-') {
        let hits: Vec<Service> = named(stem).into_iter().filter(|s| words(s.kind).contains(&word)).collect();
        if !hits.is_empty() {
            return Ok(hits);
        }
    }
    // "api-service".
    if let Some(stem) = wanted.strip_suffix("-service") {
        let hits = named(stem);
        if !hits.is_empty() {
            return Ok(hits);
        }
    }
    let mut known: Vec<String> = all.iter().map(|s| format!("{} ({})", s.name, s.kind.as_str())).collect();
    known.sort();
    Err(Error::bad_input(
        "service",
        format!("no service \"{wanted}\" in this environment"),
        Some(if known.is_empty() { "none found: deploy first, or name resources with the configured naming pattern".into() } else { known.join(", ") }),
    ))
}

/// Every service of `env`: the registry's, plus what AWS has under the naming prefix.
pub async fn resolve(cloud: &Cloud, ws: &crate::workspace::Workspace, config: &Config, env: &str, calls: &mut u32) -> Result<Vec<Service>, Error> {
    let prefix = prefix(config, env);
    let mut all = match crate::infra::registry::load(ws, env)? {
        // An environment in several regions: the services of the region these clients call.
        Some(mut r) => {
            if !r.regions.is_empty() {
                r.resources.retain(|e| e.region == cloud.target.region);
            }
            from_registry(&r, &prefix)
        }
        None => Vec::new(),
    };
    if !prefix.is_empty() {
        let found = runtime::discover(cloud, &prefix, calls).await?;
        for s in from_found(&found, &prefix) {
            if !all.iter().any(|k| k.kind == s.kind && k.resource == s.resource) {
                all.push(s);
            }
        }
    }
    all.sort_by(|a, b| (a.name.as_str(), a.kind).cmp(&(b.name.as_str(), b.kind)));
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(name: &str, kind: Kind) -> Service {
        Service {
            name: name.into(),
            kind,
            resource: format!("shop-core-test-{name}"),
            id: None,
            arn: None,
            log_groups: vec![],
            timeout_secs: None,
            source: "registry",
        }
    }

    #[test]
    fn names_resolve_to_services() {
        let all = vec![
            svc("api-handler", Kind::Lambda),
            svc("api", Kind::HttpApi),
            svc("orders", Kind::Sqs),
            svc("orders", Kind::Dynamodb),
            svc("worker", Kind::Lambda),
        ];
        let names = |w: &str| select(&all, Some(w)).map(|v| v.iter().map(|s| format!("{}:{}", s.name, s.kind.as_str())).collect::<Vec<_>>());
        for (wanted, want) in [
            ("api-handler", vec!["api-handler:lambda"]),
            ("shop-core-test-worker", vec!["worker:lambda"]),
            ("api-lambda", vec!["api-handler:lambda"]),
            ("api", vec!["api-handler:lambda", "api:http-api"]),
            ("orders-queue", vec!["orders:sqs"]),
            ("orders-table", vec!["orders:dynamodb"]),
            ("orders", vec!["orders:sqs", "orders:dynamodb"]),
            ("api-service", vec!["api-handler:lambda", "api:http-api"]),
        ] {
            assert_eq!(names(wanted).unwrap(), want, "{wanted}");
        }
        let err = select(&all, Some("payments")).unwrap_err().to_string();
        assert!(err.contains("service: no service \"payments\"") && err.contains("api-handler (lambda)"), "{err}");
        assert_eq!(select(&all, None).unwrap().len(), 5);
    }

    #[test]
    fn ecs_cluster_from_arns() {
        let mut s = svc("web", Kind::EcsService);
        s.arn = Some("arn:aws:ecs:us-east-1:123456789012:service/main/shop-core-test-web".into());
        assert_eq!(s.cluster(), Some("main"));
        s.id = Some("arn:aws:ecs:us-east-1:123456789012:cluster/prod-cluster".into());
        assert_eq!(s.cluster(), Some("prod-cluster"));
        assert_eq!(s.dimensions()[0], ("ClusterName".to_string(), "prod-cluster".to_string()));
    }
}
