//! What the product knows per AWS resource type, in one place: one
//! [`ResourceType`] entry per Terraform type, with the AWS service (the
//! provider's endpoint key), the heading it gets in DEPLOYED.md, the attribute
//! that names it, the attributes worth showing, its console link, how deploy
//! verifies it with AWS ([`Check`]), and the runtime kind ops discovers it as
//! ([`ServiceKind`]). Adding a type is one entry; every field must be given,
//! and tests check the entries against the catalog, the verifier and the
//! price table. Pure.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How the names of one deployed resource are known (any may be missing).
#[derive(Debug, Clone, Copy, Default)]
pub struct Ids<'a> {
    pub name: Option<&'a str>,
    pub id: Option<&'a str>,
    pub arn: Option<&'a str>,
}

/// How deploy's verify step asks AWS about a type (the calls are in `cloud::verify`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    S3Bucket,
    S3Versioning,
    S3PublicAccessBlock,
    S3Encryption,
    S3Ownership,
    S3Lifecycle,
    S3Policy,
    LambdaFunction,
    IamRole,
    LogGroup,
    MetricAlarm,
    DynamodbTable,
    SqsQueue,
    HttpApi,
    EcsCluster,
}

/// What kind of runtime resource a service is (what ops watches and acts on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceKind {
    Lambda,
    HttpApi,
    RestApi,
    EcsService,
    Rds,
    Sqs,
    Dynamodb,
}

impl ServiceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceKind::Lambda => "lambda",
            ServiceKind::HttpApi => "http-api",
            ServiceKind::RestApi => "rest-api",
            ServiceKind::EcsService => "ecs-service",
            ServiceKind::Rds => "rds",
            ServiceKind::Sqs => "sqs",
            ServiceKind::Dynamodb => "dynamodb",
        }
    }
}

type ConsoleLink = fn(Ids<'_>, &str) -> Option<String>;

/// Everything the product knows about one Terraform resource type.
#[derive(Debug)]
pub struct ResourceType {
    pub tf_type: &'static str,
    /// The AWS provider's `endpoints {}` key of its service.
    pub endpoint: &'static str,
    /// The heading of its group in DEPLOYED.md.
    pub label: &'static str,
    /// The attribute that names it (as the console knows it).
    pub name_attr: &'static str,
    /// Attributes worth showing in show-resources.
    pub summary_attrs: &'static [&'static str],
    pub console: Option<ConsoleLink>,
    pub check: Option<Check>,
    pub runtime: Option<ServiceKind>,
    /// Whether the cost estimate prices it (the price table has a rule for it).
    pub priced: bool,
}

macro_rules! types {
    ($($tf:literal => { $endpoint:literal, $label:literal, $name:literal, [$($attr:literal),*], $console:expr, $check:expr, $runtime:expr, $priced:literal }),+ $(,)?) => {
        /// Every type the product knows, one entry each.
        pub static TYPES: &[ResourceType] = &[
            $(ResourceType { tf_type: $tf, endpoint: $endpoint, label: $label, name_attr: $name, summary_attrs: &[$($attr),*], console: $console, check: $check, runtime: $runtime, priced: $priced },)+
        ];
    };
}

types! {
    "aws_s3_bucket" => { "s3", "S3 buckets", "bucket", [], Some(|i, r| Some(format!("https://s3.console.aws.amazon.com/s3/buckets/{}?region={r}", i.name.or(i.id)?))), Some(Check::S3Bucket), None, true },
    "aws_s3_bucket_versioning" => { "s3", "S3 bucket versioning", "bucket", ["versioning_configuration"], None, Some(Check::S3Versioning), None, false },
    "aws_s3_bucket_public_access_block" => { "s3", "S3 public access blocks", "bucket", [], None, Some(Check::S3PublicAccessBlock), None, false },
    "aws_s3_bucket_server_side_encryption_configuration" => { "s3", "S3 bucket encryption", "bucket", [], None, Some(Check::S3Encryption), None, false },
    "aws_s3_bucket_ownership_controls" => { "s3", "S3 ownership controls", "bucket", [], None, Some(Check::S3Ownership), None, false },
    "aws_s3_bucket_lifecycle_configuration" => { "s3", "S3 lifecycle rules", "bucket", [], None, Some(Check::S3Lifecycle), None, false },
    "aws_s3_bucket_policy" => { "s3", "S3 bucket policies", "bucket", [], None, Some(Check::S3Policy), None, false },
    "aws_lambda_function" => { "lambda", "Lambda functions", "function_name", ["runtime", "memory_size", "timeout", "handler"],
        Some(|i, r| Some(format!("https://{r}.console.aws.amazon.com/lambda/home?region={r}#/functions/{}", i.name.or(i.id)?))),
        Some(Check::LambdaFunction), Some(ServiceKind::Lambda), true },
    "aws_lambda_permission" => { "lambda", "Lambda permissions", "statement_id", [], None, None, None, false },
    "aws_lambda_event_source_mapping" => { "lambda", "Lambda event source mappings", "uuid", ["event_source_arn", "batch_size"], None, None, None, false },
    "aws_s3_bucket_notification" => { "s3", "S3 bucket notifications", "bucket", [], None, None, None, false },
    "aws_iam_role_policy" => { "iam", "IAM role inline policies", "name", [], None, None, None, false },
    "aws_lambda_alias" => { "lambda", "Lambda aliases", "name", ["function_version"], None, None, None, false },
    "aws_iam_role" => { "iam", "IAM roles", "name", [], Some(|i, _| Some(format!("https://console.aws.amazon.com/iam/home#/roles/details/{}", i.name.or(i.id)?))), Some(Check::IamRole), None, false },
    "aws_iam_role_policy_attachment" => { "iam", "IAM role policy attachments", "role", [], None, None, None, false },
    "aws_iam_policy" => { "iam", "IAM policies", "name", [], Some(|i, _| { i.name.or(i.id)?; Some(format!("https://console.aws.amazon.com/iam/home#/policies/details/{}", urlencode(i.arn?))) }), None, None, false },
    "aws_cloudwatch_log_group" => { "logs", "CloudWatch log groups", "name", ["retention_in_days"],
        Some(|i, r| Some(format!("https://{r}.console.aws.amazon.com/cloudwatch/home?region={r}#logsV2:log-groups/log-group/{}", i.name.or(i.id)?.replace('/', "$252F")))),
        Some(Check::LogGroup), None, true },
    "aws_cloudwatch_metric_alarm" => { "cloudwatch", "CloudWatch alarms", "alarm_name", ["metric_name", "threshold", "comparison_operator"],
        Some(|i, r| Some(format!("https://{r}.console.aws.amazon.com/cloudwatch/home?region={r}#alarmsV2:alarm/{}", urlencode(i.name.or(i.id)?)))),
        Some(Check::MetricAlarm), None, true },
    "aws_dynamodb_table" => { "dynamodb", "DynamoDB tables", "name", ["billing_mode", "hash_key", "range_key"],
        Some(|i, r| Some(format!("https://{r}.console.aws.amazon.com/dynamodbv2/home?region={r}#table?name={}", i.name.or(i.id)?))),
        Some(Check::DynamodbTable), Some(ServiceKind::Dynamodb), true },
    "aws_sqs_queue" => { "sqs", "SQS queues", "name", ["visibility_timeout_seconds", "message_retention_seconds"],
        Some(|i, r| { let name_or_id = i.name.or(i.id)?; Some(format!("https://{r}.console.aws.amazon.com/sqs/v3/home?region={r}#/queues/{}", urlencode(i.id.unwrap_or(name_or_id)))) }),
        Some(Check::SqsQueue), Some(ServiceKind::Sqs), true },
    "aws_sns_topic" => { "sns", "SNS topics", "name", [], Some(|i, r| { i.name.or(i.id)?; Some(format!("https://{r}.console.aws.amazon.com/sns/v3/home?region={r}#/topic/{}", i.arn?)) }), None, None, true },
    "aws_apigatewayv2_api" => { "apigatewayv2", "API Gateway APIs", "name", ["protocol_type", "api_endpoint"],
        Some(|i, r| { i.name.or(i.id)?; Some(format!("https://{r}.console.aws.amazon.com/apigateway/main/api-detail?api={}&region={r}", i.id?)) }),
        Some(Check::HttpApi), Some(ServiceKind::HttpApi), true },
    "aws_apigatewayv2_stage" => { "apigatewayv2", "API Gateway stages", "name", [], None, None, None, false },
    "aws_apigatewayv2_route" => { "apigatewayv2", "API Gateway routes", "route_key", [], None, None, None, false },
    "aws_apigatewayv2_integration" => { "apigatewayv2", "API Gateway integrations", "integration_uri", [], None, None, None, false },
    "aws_api_gateway_rest_api" => { "apigateway", "API Gateway REST APIs", "name", [], None, None, Some(ServiceKind::RestApi), true },
    "aws_db_instance" => { "rds", "RDS instances", "identifier", ["engine", "engine_version", "instance_class", "allocated_storage", "multi_az", "publicly_accessible"],
        Some(|i, r| Some(format!("https://{r}.console.aws.amazon.com/rds/home?region={r}#database:id={}", i.name.or(i.id)?))), None, Some(ServiceKind::Rds), true },
    "aws_cloudfront_distribution" => { "cloudfront", "CloudFront distributions", "name", ["domain_name", "enabled"],
        Some(|i, _| { i.name.or(i.id)?; Some(format!("https://console.aws.amazon.com/cloudfront/v4/home#/distributions/{}", i.id?)) }), None, None, true },
    "aws_cloudfront_origin_access_control" => { "cloudfront", "CloudFront origin access controls", "name", [], None, None, None, false },
    "aws_kms_key" => { "kms", "KMS keys", "name", [],
        Some(|i, r| { i.name.or(i.id)?; Some(format!("https://{r}.console.aws.amazon.com/kms/home?region={r}#/kms/keys/{}", i.id?)) }), None, None, true },
    "aws_kms_alias" => { "kms", "KMS aliases", "name", [], None, None, None, false },
    "aws_secretsmanager_secret" => { "secretsmanager", "Secrets Manager secrets", "name", [],
        Some(|i, r| Some(format!("https://{r}.console.aws.amazon.com/secretsmanager/secret?name={}&region={r}", urlencode(i.name.or(i.id)?)))), None, None, true },
    "aws_cognito_user_pool" => { "cognitoidp", "Cognito user pools", "name", [],
        Some(|i, r| { i.name.or(i.id)?; Some(format!("https://{r}.console.aws.amazon.com/cognito/v2/idp/user-pools/{}/users?region={r}", i.id?)) }), None, None, true },
    "aws_cognito_user_pool_client" => { "cognitoidp", "Cognito user pool clients", "name", [], None, None, None, false },
    "aws_cloudwatch_event_rule" => { "events", "EventBridge rules", "name", [],
        Some(|i, r| Some(format!("https://{r}.console.aws.amazon.com/events/home?region={r}#/eventbus/default/rules/{}", i.name.or(i.id)?))), None, None, false },
    "aws_cloudwatch_event_target" => { "events", "EventBridge targets", "target_id", [], None, None, None, false },
    "aws_ecs_cluster" => { "ecs", "ECS clusters", "name", [],
        Some(|i, r| Some(format!("https://{r}.console.aws.amazon.com/ecs/v2/clusters/{}?region={r}", i.name.or(i.id)?))), Some(Check::EcsCluster), None, false },
    "aws_ecs_service" => { "ecs", "ECS services", "name", [], None, None, Some(ServiceKind::EcsService), true },
}

/// The entry of a Terraform type, if the product knows it.
pub fn lookup(tf_type: &str) -> Option<&'static ResourceType> {
    TYPES.iter().find(|t| t.tf_type == tf_type)
}

/// The attribute that names a resource of this type (`name` for types the product does not know).
pub fn name_attr(tf_type: &str) -> &'static str {
    lookup(tf_type).map_or("name", |t| t.name_attr)
}

/// The console URL of a resource, from its type, name/id/ARN and region.
pub fn url(kind: &str, name: Option<&str>, id: Option<&str>, arn: Option<&str>, region: &str) -> Option<String> {
    (lookup(kind)?.console?)(Ids { name, id, arn }, region)
}

/// The runtime kind of a Terraform type (what ops discovers it as).
pub fn service_kind(tf_type: &str) -> Option<ServiceKind> {
    lookup(tf_type)?.runtime
}

fn urlencode(s: &str) -> String {
    percent_encode(s, b"")
}

/// Percent-encodes every byte but ASCII letters, digits, `-_.~` and `also_safe`.
pub(crate) fn percent_encode(s: &str, also_safe: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || also_safe.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{TYPES, url};

    #[test]
    fn one_entry_per_type() {
        for (i, t) in TYPES.iter().enumerate() {
            assert!(t.tf_type.starts_with("aws_"), "{}", t.tf_type);
            assert!(TYPES[..i].iter().all(|o| o.tf_type != t.tf_type), "{} twice", t.tf_type);
            assert!(!t.endpoint.is_empty() && !t.label.is_empty() && !t.name_attr.is_empty(), "{}", t.tf_type);
        }
    }

    #[test]
    fn links() {
        assert_eq!(url("aws_s3_bucket", None, Some("b-1"), None, "eu-west-1").unwrap(), "https://s3.console.aws.amazon.com/s3/buckets/b-1?region=eu-west-1");
        assert_eq!(
            url("aws_lambda_function", Some("f"), None, None, "us-east-1").unwrap(),
            "https://us-east-1.console.aws.amazon.com/lambda/home?region=us-east-1#/functions/f"
        );
        assert!(url("aws_cloudwatch_log_group", Some("/aws/lambda/f"), None, None, "us-east-1").unwrap().ends_with("log-group/$252Faws$252Flambda$252Ff"));
        assert!(url("aws_sns_topic", Some("t"), None, None, "us-east-1").is_none(), "needs the ARN");
        assert!(url("aws_unknown_thing", Some("x"), None, None, "us-east-1").is_none());
    }
}
