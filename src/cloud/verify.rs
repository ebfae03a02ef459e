//! After an apply: ask AWS itself (not Terraform) whether each resource
//! exists and carries the configuration the state says it has.
//!
//! Types without a check here are reported as `unchecked`, never as passed.

use serde::Serialize;
use serde_json::Value;

use super::{Cloud, describe, is_not_found};
use crate::vocabulary::resource::{self, Check};

/// What AWS said about one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Exists,
    Missing,
    /// No AWS check for this type (yet).
    Unchecked,
    /// The check itself failed (permission, network): unknown.
    Error,
}

/// One resource's verification.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Verified {
    pub address: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub presence: Presence,
    /// The AWS call asked, or why nothing was asked.
    pub detail: String,
    /// Attributes compared with what AWS reports.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub configuration: Vec<Compared>,
}

/// One attribute: what the state says and what AWS says.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Compared {
    pub attribute: String,
    pub expected: Value,
    pub actual: Value,
    pub matches: bool,
}

fn s<'a>(values: &'a Value, key: &str) -> &'a str {
    values.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn compare(attribute: &str, expected: Value, actual: Value) -> Compared {
    // 5 and 5.0 are the same threshold.
    let matches = match (expected.as_f64(), actual.as_f64()) {
        (Some(a), Some(b)) => a == b,
        _ => expected == actual,
    };
    Compared { attribute: attribute.into(), expected, actual, matches }
}

/// Whether [`check`] knows how to ask AWS about `kind` (its entry in the resource table has a [`Check`]).
pub fn is_checked(kind: &str) -> bool {
    resource::lookup(kind).is_some_and(|t| t.check.is_some())
}

/// Asks AWS about one resource of the state (`values` as `terraform show -json` gives them).
pub async fn check(cloud: &Cloud, address: &str, kind: &str, values: &Value) -> Verified {
    let mut v = Verified { address: address.into(), kind: kind.into(), presence: Presence::Unchecked, detail: String::new(), configuration: Vec::new() };
    let Some(how) = resource::lookup(kind).and_then(|t| t.check) else {
        v.detail = format!("no AWS check for {kind}; not verified");
        return v;
    };
    let result = ask(cloud, how, values, &mut v.configuration).await;
    match result {
        Ok(call) => {
            v.presence = Presence::Exists;
            v.detail = call;
        }
        Err(Asked::Missing(call)) => {
            v.presence = Presence::Missing;
            v.detail = format!("{call}: not found");
        }
        Err(Asked::Failed(message)) => {
            v.presence = Presence::Error;
            // A transport or parsing failure can carry the whole response: keep the start.
            let message: String = message.chars().take(300).collect();
            v.detail = crate::redact::redact(&message);
        }
    }
    v
}

enum Asked {
    Missing(String),
    Failed(String),
}

/// Maps an SDK error: not found → Missing, anything else → Failed.
macro_rules! asked {
    ($call:expr) => {
        |e| if is_not_found(&e) { Asked::Missing($call.to_string()) } else { Asked::Failed(describe($call, &e)) }
    };
}

async fn ask(cloud: &Cloud, how: Check, values: &Value, cfg: &mut Vec<Compared>) -> Result<String, Asked> {
    match how {
        Check::S3Bucket => {
            let call = "s3:HeadBucket";
            cloud.s3().head_bucket().bucket(s(values, "bucket")).send().await.map_err(asked!(call))?;
            Ok(format!("{call} {}", s(values, "bucket")))
        }
        Check::S3Versioning => {
            let call = "s3:GetBucketVersioning";
            let status = match cloud.s3().get_bucket_versioning().bucket(s(values, "bucket")).send().await {
                Ok(out) => out.status().map(|s| s.as_str().to_string()),
                // moto answers with the root element <GetBucketVersioningResponse> where AWS sends
                // <VersioningConfiguration>; the SDK refuses the document, its content is the same.
                Err(e) => match e.raw_response().and_then(|r| r.body().bytes()).map(String::from_utf8_lossy) {
                    Some(body) if body.contains("<GetBucketVersioningResponse") => {
                        body.split_once("<Status>").and_then(|(_, rest)| rest.split_once("</Status>")).map(|(status, _)| status.to_string())
                    }
                    _ => return Err(asked!(call)(e)),
                },
            };
            let expected = values.pointer("/versioning_configuration/0/status").cloned().unwrap_or(Value::Null);
            cfg.push(compare("versioning_configuration.status", expected, status.map_or(Value::Null, Value::from)));
            Ok(call.into())
        }
        Check::S3PublicAccessBlock => {
            let call = "s3:GetPublicAccessBlock";
            let out = cloud.s3().get_public_access_block().bucket(s(values, "bucket")).send().await.map_err(asked!(call))?;
            if let Some(c) = out.public_access_block_configuration() {
                for (attr, actual) in [
                    ("block_public_acls", c.block_public_acls()),
                    ("block_public_policy", c.block_public_policy()),
                    ("ignore_public_acls", c.ignore_public_acls()),
                    ("restrict_public_buckets", c.restrict_public_buckets()),
                ] {
                    cfg.push(compare(attr, values.get(attr).cloned().unwrap_or(Value::Null), actual.map_or(Value::Null, Value::from)));
                }
            }
            Ok(call.into())
        }
        Check::S3Encryption => {
            let call = "s3:GetBucketEncryption";
            let out = cloud.s3().get_bucket_encryption().bucket(s(values, "bucket")).send().await.map_err(asked!(call))?;
            let actual = out
                .server_side_encryption_configuration()
                .and_then(|c| c.rules().first())
                .and_then(|r| r.apply_server_side_encryption_by_default())
                .map_or(Value::Null, |d| Value::from(d.sse_algorithm().as_str()));
            let expected = values.pointer("/rule/0/apply_server_side_encryption_by_default/0/sse_algorithm").cloned().unwrap_or(Value::Null);
            cfg.push(compare("sse_algorithm", expected, actual));
            Ok(call.into())
        }
        Check::S3Ownership => {
            let call = "s3:GetBucketOwnershipControls";
            let out = cloud.s3().get_bucket_ownership_controls().bucket(s(values, "bucket")).send().await.map_err(asked!(call))?;
            let actual = out.ownership_controls().and_then(|c| c.rules().first()).map_or(Value::Null, |r| Value::from(r.object_ownership().as_str()));
            cfg.push(compare("object_ownership", values.pointer("/rule/0/object_ownership").cloned().unwrap_or(Value::Null), actual));
            Ok(call.into())
        }
        Check::S3Lifecycle => {
            let call = "s3:GetBucketLifecycleConfiguration";
            let out = cloud.s3().get_bucket_lifecycle_configuration().bucket(s(values, "bucket")).send().await.map_err(asked!(call))?;
            let expected = values.get("rule").and_then(Value::as_array).map_or(0, Vec::len);
            cfg.push(compare("rule count", Value::from(expected), Value::from(out.rules().len())));
            Ok(call.into())
        }
        Check::S3Policy => {
            let call = "s3:GetBucketPolicy";
            let out = cloud.s3().get_bucket_policy().bucket(s(values, "bucket")).send().await.map_err(asked!(call))?;
            // Compare as JSON documents: AWS may reformat the text.
            let parse = |t: &str| serde_json::from_str::<Value>(t).unwrap_or(Value::Null);
            cfg.push(compare("policy", parse(s(values, "policy")), parse(out.policy().unwrap_or_default())));
            Ok(call.into())
        }
        Check::LambdaFunction => {
            let call = "lambda:GetFunctionConfiguration";
            let out = cloud.lambda().get_function_configuration().function_name(s(values, "function_name")).send().await.map_err(asked!(call))?;
            cfg.push(compare("runtime", values.get("runtime").cloned().unwrap_or(Value::Null), out.runtime().map_or(Value::Null, |r| Value::from(r.as_str()))));
            cfg.push(compare("memory_size", values.get("memory_size").cloned().unwrap_or(Value::Null), out.memory_size().map_or(Value::Null, Value::from)));
            cfg.push(compare("timeout", values.get("timeout").cloned().unwrap_or(Value::Null), out.timeout().map_or(Value::Null, Value::from)));
            Ok(call.into())
        }
        Check::IamRole => {
            let call = "iam:GetRole";
            cloud.iam().get_role().role_name(s(values, "name")).send().await.map_err(asked!(call))?;
            Ok(call.into())
        }
        Check::LogGroup => {
            let call = "logs:DescribeLogGroups";
            let name = s(values, "name");
            let out = cloud.logs().describe_log_groups().log_group_name_prefix(name).send().await.map_err(asked!(call))?;
            let group = out.log_groups().iter().find(|g| g.log_group_name() == Some(name)).ok_or_else(|| Asked::Missing(call.into()))?;
            let expected = values.get("retention_in_days").cloned().filter(|v| v.as_i64() != Some(0)).unwrap_or(Value::Null);
            cfg.push(compare("retention_in_days", expected, group.retention_in_days().map_or(Value::Null, Value::from)));
            Ok(call.into())
        }
        Check::MetricAlarm => {
            let call = "cloudwatch:DescribeAlarms";
            let name = s(values, "alarm_name");
            let out = cloud.cloudwatch().describe_alarms().alarm_names(name).send().await.map_err(asked!(call))?;
            let alarm = out.metric_alarms().first().ok_or_else(|| Asked::Missing(call.into()))?;
            cfg.push(compare("metric_name", values.get("metric_name").cloned().unwrap_or(Value::Null), alarm.metric_name().map_or(Value::Null, Value::from)));
            cfg.push(compare("threshold", values.get("threshold").cloned().unwrap_or(Value::Null), alarm.threshold().map_or(Value::Null, Value::from)));
            Ok(call.into())
        }
        Check::DynamodbTable => {
            let call = "dynamodb:DescribeTable";
            let out = cloud.dynamodb().describe_table().table_name(s(values, "name")).send().await.map_err(asked!(call))?;
            let actual = out.table().and_then(|t| t.billing_mode_summary()).and_then(|b| b.billing_mode()).map_or(Value::Null, |m| Value::from(m.as_str()));
            if !actual.is_null() {
                cfg.push(compare("billing_mode", values.get("billing_mode").cloned().unwrap_or(Value::Null), actual));
            }
            Ok(call.into())
        }
        Check::SqsQueue => {
            let call = "sqs:GetQueueUrl";
            cloud.sqs().get_queue_url().queue_name(s(values, "name")).send().await.map_err(asked!(call))?;
            Ok(call.into())
        }
        Check::HttpApi => {
            let call = "apigateway:GET /v2/apis/{id}";
            let out = cloud.apigateway().get_api().api_id(s(values, "id")).send().await.map_err(asked!(call))?;
            cfg.push(compare(
                "protocol_type",
                values.get("protocol_type").cloned().unwrap_or(Value::Null),
                out.protocol_type().map_or(Value::Null, |p| Value::from(p.as_str())),
            ));
            Ok(call.into())
        }
        Check::EcsCluster => {
            let call = "ecs:DescribeClusters";
            let out = cloud.ecs().describe_clusters().clusters(s(values, "name")).send().await.map_err(asked!(call))?;
            if out.clusters().iter().all(|c| c.status() == Some("INACTIVE")) {
                return Err(Asked::Missing(call.into()));
            }
            Ok(call.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::vocabulary::resource::{Check, TYPES};

    /// Every way of checking is used by exactly one type: a new check needs its type, and `ask` handles each.
    #[test]
    fn each_check_belongs_to_one_type() {
        let all = [
            Check::S3Bucket,
            Check::S3Versioning,
            Check::S3PublicAccessBlock,
            Check::S3Encryption,
            Check::S3Ownership,
            Check::S3Lifecycle,
            Check::S3Policy,
            Check::LambdaFunction,
            Check::IamRole,
            Check::LogGroup,
            Check::MetricAlarm,
            Check::DynamodbTable,
            Check::SqsQueue,
            Check::HttpApi,
            Check::EcsCluster,
        ];
        for c in all {
            let owners: Vec<&str> = TYPES.iter().filter(|t| t.check == Some(c)).map(|t| t.tf_type).collect();
            assert_eq!(owners.len(), 1, "{c:?} is used by {owners:?}");
        }
        assert_eq!(TYPES.iter().filter(|t| t.check.is_some()).count(), all.len());
    }
}
