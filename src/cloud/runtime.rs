//! Runtime resources: finding an environment's services by name prefix, the
//! facts remediation needs (Lambda configuration, ECS service state), and the
//! remediation calls themselves. Callers hold an `Approval` before the
//! mutating ones (`ops::remediate`).

use serde::Serialize;

use super::{Cloud, aws_error};
use crate::error::Error;
use crate::vocabulary::resource::ServiceKind;

/// A runtime resource found in AWS.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Found {
    /// lambda, http-api, sqs, dynamodb, ecs-service.
    pub kind: ServiceKind,
    pub name: String,
    /// API id, ECS cluster, queue URL: what calls need besides the name.
    pub id: Option<String>,
    pub arn: Option<String>,
}

/// Every Lambda function, HTTP API, SQS queue, DynamoDB table and ECS service whose name starts with `prefix`.
pub async fn discover(cloud: &Cloud, prefix: &str, calls: &mut u32) -> Result<Vec<Found>, Error> {
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        *calls += 1;
        let resp = cloud.lambda().list_functions().set_marker(marker.clone()).send().await.map_err(|e| aws_error("lambda:ListFunctions", e))?;
        for f in resp.functions() {
            let name = f.function_name().unwrap_or_default();
            if name.starts_with(prefix) {
                out.push(Found { kind: ServiceKind::Lambda, name: name.into(), id: None, arn: f.function_arn().map(str::to_string) });
            }
        }
        marker = resp.next_marker().map(str::to_string);
        if marker.is_none() {
            break;
        }
    }
    *calls += 1;
    let apis = cloud.apigateway().get_apis().send().await.map_err(|e| aws_error("apigateway:GetApis", e))?;
    for a in apis.items() {
        let name = a.name().unwrap_or_default();
        if name.starts_with(prefix) {
            out.push(Found { kind: ServiceKind::HttpApi, name: name.into(), id: a.api_id().map(str::to_string), arn: None });
        }
    }
    *calls += 1;
    let queues = cloud.sqs().list_queues().queue_name_prefix(prefix).send().await.map_err(|e| aws_error("sqs:ListQueues", e))?;
    for url in queues.queue_urls() {
        let name = url.rsplit('/').next().unwrap_or_default();
        out.push(Found { kind: ServiceKind::Sqs, name: name.into(), id: Some(url.clone()), arn: None });
    }
    let mut start: Option<String> = None;
    loop {
        *calls += 1;
        let resp =
            cloud.dynamodb().list_tables().set_exclusive_start_table_name(start.clone()).send().await.map_err(|e| aws_error("dynamodb:ListTables", e))?;
        for t in resp.table_names().iter().filter(|t| t.starts_with(prefix)) {
            out.push(Found { kind: ServiceKind::Dynamodb, name: t.clone(), id: None, arn: None });
        }
        start = resp.last_evaluated_table_name().map(str::to_string);
        if start.is_none() {
            break;
        }
    }
    *calls += 1;
    let clusters = cloud.ecs().list_clusters().send().await.map_err(|e| aws_error("ecs:ListClusters", e))?;
    for cluster in clusters.cluster_arns() {
        *calls += 1;
        let services = cloud.ecs().list_services().cluster(cluster).send().await.map_err(|e| aws_error("ecs:ListServices", e))?;
        for arn in services.service_arns() {
            let name = arn.rsplit('/').next().unwrap_or_default();
            if name.starts_with(prefix) {
                out.push(Found { kind: ServiceKind::EcsService, name: name.into(), id: Some(cluster.clone()), arn: Some(arn.clone()) });
            }
        }
    }
    Ok(out)
}

/// What remediation and health need to know about a function.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LambdaFacts {
    pub name: String,
    pub timeout_secs: i32,
    pub memory_mb: i32,
    pub state: Option<String>,
    pub last_modified: Option<String>,
    pub reserved_concurrency: Option<i32>,
    pub environment: Vec<(String, String)>,
}

pub async fn lambda_facts(cloud: &Cloud, name: &str, calls: &mut u32) -> Result<LambdaFacts, Error> {
    *calls += 2;
    let c = cloud.lambda().get_function_configuration().function_name(name).send().await.map_err(|e| aws_error("lambda:GetFunctionConfiguration", e))?;
    let concurrency = cloud.lambda().get_function_concurrency().function_name(name).send().await.map_err(|e| aws_error("lambda:GetFunctionConcurrency", e))?;
    let mut environment: Vec<(String, String)> =
        c.environment().and_then(|e| e.variables()).map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default();
    environment.sort();
    Ok(LambdaFacts {
        name: name.into(),
        timeout_secs: c.timeout().unwrap_or(3),
        memory_mb: c.memory_size().unwrap_or(128),
        state: c.state().map(|s| s.as_str().to_string()),
        last_modified: c.last_modified().map(str::to_string),
        reserved_concurrency: concurrency.reserved_concurrent_executions(),
        environment,
    })
}

/// Restart a function: touch its configuration (`FABER_CLOUD_RESTARTED_AT`), which makes Lambda start fresh
/// execution environments for the next invocations. Keeps every other variable.
pub async fn lambda_restart(cloud: &Cloud, facts: &LambdaFacts, stamp: &str) -> Result<(), Error> {
    let mut vars: std::collections::HashMap<String, String> = facts.environment.iter().cloned().collect();
    vars.insert("FABER_CLOUD_RESTARTED_AT".into(), stamp.into());
    let env = aws_sdk_lambda::types::Environment::builder().set_variables(Some(vars)).build();
    cloud
        .lambda()
        .update_function_configuration()
        .function_name(&facts.name)
        .environment(env)
        .send()
        .await
        .map_err(|e| aws_error("lambda:UpdateFunctionConfiguration", e))?;
    Ok(())
}

/// Set a function's reserved concurrency.
pub async fn lambda_scale(cloud: &Cloud, name: &str, reserved: i32) -> Result<(), Error> {
    cloud
        .lambda()
        .put_function_concurrency()
        .function_name(name)
        .reserved_concurrent_executions(reserved)
        .send()
        .await
        .map_err(|e| aws_error("lambda:PutFunctionConcurrency", e))?;
    Ok(())
}

/// The alias a rollback moves and the versions it can move between.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AliasFacts {
    pub alias: String,
    pub current: String,
    /// The published version before `current`, if any.
    pub previous: Option<String>,
}

/// The function's alias (`live` if present, else the first) and the version before the one it points at.
pub async fn lambda_alias(cloud: &Cloud, name: &str, calls: &mut u32) -> Result<Option<AliasFacts>, Error> {
    *calls += 2;
    let aliases = cloud.lambda().list_aliases().function_name(name).send().await.map_err(|e| aws_error("lambda:ListAliases", e))?;
    let Some(alias) = aliases.aliases().iter().find(|a| a.name() == Some("live")).or_else(|| aliases.aliases().first()) else {
        return Ok(None);
    };
    let current = alias.function_version().unwrap_or_default().to_string();
    let versions = cloud.lambda().list_versions_by_function().function_name(name).send().await.map_err(|e| aws_error("lambda:ListVersionsByFunction", e))?;
    let mut published: Vec<u64> = versions.versions().iter().filter_map(|v| v.version()).filter_map(|v| v.parse().ok()).collect();
    published.sort_unstable();
    let previous = current.parse::<u64>().ok().and_then(|c| published.iter().rev().find(|v| **v < c)).map(|v| v.to_string());
    Ok(Some(AliasFacts { alias: alias.name().unwrap_or_default().into(), current, previous }))
}

pub async fn lambda_point_alias(cloud: &Cloud, name: &str, alias: &str, version: &str) -> Result<(), Error> {
    cloud.lambda().update_alias().function_name(name).name(alias).function_version(version).send().await.map_err(|e| aws_error("lambda:UpdateAlias", e))?;
    Ok(())
}

/// An ECS service's state.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct EcsFacts {
    pub cluster: String,
    pub service: String,
    pub desired: i32,
    pub running: i32,
    pub task_definition: String,
    pub deployments: usize,
}

pub async fn ecs_facts(cloud: &Cloud, cluster: &str, service: &str, calls: &mut u32) -> Result<EcsFacts, Error> {
    *calls += 1;
    let resp = cloud.ecs().describe_services().cluster(cluster).services(service).send().await.map_err(|e| aws_error("ecs:DescribeServices", e))?;
    let s = resp.services().first().ok_or_else(|| Error::NotFound {
        what: "ECS service",
        name: service.to_string(),
        message: format!("ECS service {service} not found in cluster {cluster}"),
    })?;
    Ok(EcsFacts {
        cluster: cluster.into(),
        service: service.into(),
        desired: s.desired_count(),
        running: s.running_count(),
        task_definition: s.task_definition().unwrap_or_default().into(),
        deployments: s.deployments().len(),
    })
}

/// Force a new deployment, change the desired count, or switch the task definition.
pub async fn ecs_update(
    cloud: &Cloud,
    cluster: &str,
    service: &str,
    force_new: bool,
    desired: Option<i32>,
    task_definition: Option<&str>,
) -> Result<(), Error> {
    let mut req = cloud.ecs().update_service().cluster(cluster).service(service).force_new_deployment(force_new);
    if let Some(d) = desired {
        req = req.desired_count(d);
    }
    if let Some(td) = task_definition {
        req = req.task_definition(td);
    }
    req.send().await.map_err(|e| aws_error("ecs:UpdateService", e))?;
    Ok(())
}
