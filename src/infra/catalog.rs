//! The component catalog: for each design component, the Terraform it needs,
//! with secure defaults (private, encrypted, versioned, logged, alarmed).
//!
//! Emits `hcl` structures (the `hcl-rs` crate), never strings glued together;
//! `engineer` formats and writes them. Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use hcl::expr::{Expression, TemplateExpr};
use hcl::{Block, Body};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::config::pattern::{self, PatternValues};
use crate::error::Error;
use crate::infra::design::{Component, ComponentKind, DesignSpec};
use crate::vocabulary::resource;

/// What generation needs beyond the design.
pub struct GenContext<'a> {
    /// `resource_naming.pattern`.
    pub naming_pattern: &'a str,
    pub spec: &'a DesignSpec,
    /// The stack deploys once per region (one state each): global resources (IAM) are created in the primary
    /// region only (`local.primary`) and looked up in the others; globally unique names (buckets) carry
    /// `local.region_suffix` outside the primary region.
    pub multi_region: bool,
}

/// Terraform for one design.
#[derive(Default)]
pub struct Generated {
    pub resources: Vec<Block>,
    pub outputs: Vec<Block>,
    /// Provider endpoint keys of the AWS services used (for `endpoints {}`).
    pub services: BTreeSet<&'static str>,
    /// Bucket address → the functions its new objects invoke (one `aws_s3_bucket_notification` per bucket).
    notifications: BTreeMap<String, Vec<String>>,
}

// ----- expression helpers ---------------------------------------------------

/// An HCL expression from source text (references, function calls).
fn x(source: &str) -> Expression {
    Expression::from_str(source).unwrap_or_else(|e| panic!("catalog expression {source:?}: {e}"))
}

/// A quoted template such as `"${var.project}-uploads"`.
fn t(template: &str) -> Expression {
    Expression::from(TemplateExpr::QuotedString(template.to_string()))
}

fn block(ident: &str, labels: &[&str], body: Body) -> Block {
    let mut b = Block::builder(ident);
    for l in labels {
        b = b.add_label(*l);
    }
    b.add_structures(body).build()
}

fn resource(kind: &str, name: &str, body: Body) -> Block {
    block("resource", &[kind, name], body)
}

fn nested(ident: &str, body: Body) -> Block {
    block(ident, &[], body)
}

macro_rules! body {
    ($($key:literal => $value:expr),* $(,)?) => {{
        #[allow(unused_mut)]
        let mut b = Body::builder();
        $( b = b.add_attribute(($key, Expression::from($value))); )*
        b
    }};
}

/// What a multi-region stack adds once: whether this state is the primary region's, the suffix of globally
/// unique names outside it, and the account and partition that make the ARN of a role the primary region creates
/// (known when the other regions plan, before the primary has applied).
pub fn region_blocks() -> Vec<Block> {
    vec![
        nested(
            "locals",
            body! {
                "primary" => x("var.primary_region == \"\" || var.primary_region == var.region"),
                "region_suffix" => x("local.primary ? \"\" : \"-${var.region}\""),
            }
            .build(),
        ),
        block("data", &["aws_caller_identity", "faber"], Body::default()),
        block("data", &["aws_partition", "faber"], Body::default()),
    ]
}

/// A Terraform identifier for a component name: `user-pool` → `user_pool`.
pub fn tf_name(name: &str) -> String {
    name.replace('-', "_")
}

/// The naming pattern with Terraform variables in place of the placeholders:
/// `${var.project}-${var.subsystem}-${var.environment}-uploads`.
pub fn aws_name(pattern: &str, resource: &str) -> String {
    pattern::substitute(
        pattern,
        &PatternValues {
            project: Some("${var.project}"),
            subsystem: Some("${var.subsystem}"),
            environment: Some("${var.environment}"),
            resource: Some(resource),
            organization: Some("${var.organization}"),
        },
    )
    .expect("the pattern was validated with the configuration")
}

fn settings<T: DeserializeOwned>(index: usize, c: &Component) -> Result<T, Error> {
    let value = serde_json::Value::Object(c.settings.clone());
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { format!("design.components[{index}].settings") } else { format!("design.components[{index}].settings.{path}") };
        Error::bad_input(field, e.into_inner().to_string(), None)
    })
}

// ----- settings with secure defaults ----------------------------------------

#[derive(Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
struct S3 {
    versioning: bool,
    noncurrent_version_expiration_days: u32,
    kms_key: Option<String>,
}
impl Default for S3 {
    fn default() -> Self {
        S3 { versioning: true, noncurrent_version_expiration_days: 90, kms_key: None }
    }
}

#[derive(Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
struct Lambda {
    runtime: String,
    handler: String,
    memory_mb: u32,
    timeout_seconds: u32,
    log_retention_days: u32,
    reserved_concurrency: Option<i32>,
    alarms: bool,
    /// Components the function reads (a bucket's objects, a table's items, a queue's messages, a secret): its role
    /// may read exactly those, and its environment names them.
    reads: Vec<String>,
    /// Components the function writes to (a bucket, a table, a queue, a topic).
    writes: Vec<String>,
    /// Components whose events invoke it: an s3_bucket (each new object) or an sqs_queue (each message).
    triggered_by: Vec<String>,
}
impl Default for Lambda {
    fn default() -> Self {
        Lambda {
            runtime: "python3.12".into(),
            handler: "index.handler".into(),
            memory_mb: 256,
            timeout_seconds: 30,
            log_retention_days: 30,
            reserved_concurrency: None,
            alarms: true,
            reads: Vec::new(),
            writes: Vec::new(),
            triggered_by: Vec::new(),
        }
    }
}

#[derive(Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
struct HttpApi {
    lambda: Option<String>,
    cors_origins: Vec<String>,
    throttle_rate_limit: u32,
    throttle_burst_limit: u32,
    log_retention_days: u32,
    alarms: bool,
}
impl Default for HttpApi {
    fn default() -> Self {
        HttpApi { lambda: None, cors_origins: Vec::new(), throttle_rate_limit: 100, throttle_burst_limit: 50, log_retention_days: 30, alarms: true }
    }
}

#[derive(Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
struct Dynamo {
    hash_key: String,
    range_key: Option<String>,
    kms_key: Option<String>,
    /// AWS refuses to delete the table while it is on: removing the table takes turning it off first.
    deletion_protection: bool,
}
impl Default for Dynamo {
    fn default() -> Self {
        Dynamo { hash_key: "pk".into(), range_key: Some("sk".into()), kms_key: None, deletion_protection: true }
    }
}

#[derive(Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
struct Rds {
    instance_class: String,
    allocated_storage_gb: u32,
    engine_version: String,
    multi_az: bool,
    backup_retention_days: u32,
    deletion_protection: bool,
    kms_key: Option<String>,
    alarms: bool,
}
impl Default for Rds {
    fn default() -> Self {
        Rds {
            instance_class: "db.t4g.micro".into(),
            allocated_storage_gb: 20,
            engine_version: "16".into(),
            multi_az: false,
            backup_retention_days: 7,
            deletion_protection: true,
            kms_key: None,
            alarms: true,
        }
    }
}

#[derive(Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
struct Sqs {
    visibility_timeout_seconds: u32,
    retention_days: u32,
    max_receive_count: u32,
    kms_key: Option<String>,
    alarms: bool,
}
impl Default for Sqs {
    fn default() -> Self {
        Sqs { visibility_timeout_seconds: 30, retention_days: 4, max_receive_count: 5, kms_key: None, alarms: true }
    }
}

#[derive(Deserialize, Serialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
struct Sns {
    kms_key: Option<String>,
}

#[derive(Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
struct Cognito {
    password_min_length: u32,
    mfa: String,
    callback_urls: Vec<String>,
}
impl Default for Cognito {
    fn default() -> Self {
        Cognito { password_min_length: 12, mfa: "OPTIONAL".into(), callback_urls: Vec::new() }
    }
}

#[derive(Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
struct StaticSite {
    default_root_object: String,
    price_class: String,
}
impl Default for StaticSite {
    fn default() -> Self {
        StaticSite { default_root_object: "index.html".into(), price_class: "PriceClass_100".into() }
    }
}

#[derive(Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
struct Schedule {
    expression: String,
    lambda: Option<String>,
}
impl Default for Schedule {
    fn default() -> Self {
        Schedule { expression: "rate(1 day)".into(), lambda: None }
    }
}

#[derive(Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
struct Kms {
    deletion_window_days: u32,
}
impl Default for Kms {
    fn default() -> Self {
        Kms { deletion_window_days: 30 }
    }
}

#[derive(Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
struct Secret {
    recovery_window_days: u32,
    kms_key: Option<String>,
}
impl Default for Secret {
    fn default() -> Self {
        Secret { recovery_window_days: 7, kms_key: None }
    }
}

/// A component's settings with every default filled in (for the design document).
pub fn effective_settings(index: usize, c: &Component) -> Result<serde_json::Value, Error> {
    fn full<T: DeserializeOwned + Serialize>(index: usize, c: &Component) -> Result<serde_json::Value, Error> {
        Ok(serde_json::to_value(settings::<T>(index, c)?).expect("settings serialise"))
    }
    match c.kind {
        ComponentKind::S3Bucket => full::<S3>(index, c),
        ComponentKind::LambdaFunction => full::<Lambda>(index, c),
        ComponentKind::HttpApi => full::<HttpApi>(index, c),
        ComponentKind::DynamodbTable => full::<Dynamo>(index, c),
        ComponentKind::RdsPostgres => full::<Rds>(index, c),
        ComponentKind::SqsQueue => full::<Sqs>(index, c),
        ComponentKind::SnsTopic => full::<Sns>(index, c),
        ComponentKind::CognitoUserPool => full::<Cognito>(index, c),
        ComponentKind::StaticSite => full::<StaticSite>(index, c),
        ComponentKind::Schedule => full::<Schedule>(index, c),
        ComponentKind::KmsKey => full::<Kms>(index, c),
        ComponentKind::Secret => full::<Secret>(index, c),
    }
}

// ----- generation -------------------------------------------------------------

/// Terraform for every component of the design (existing ones are skipped).
pub fn generate(ctx: &GenContext<'_>) -> Result<Generated, Error> {
    let mut out = Generated::default();
    out.services.extend(["sts", "iam"]);
    for (i, c) in ctx.spec.components.iter().enumerate() {
        if c.existing.is_some() {
            continue;
        }
        let g = Gen { ctx, c, i, id: tf_name(&c.name) };
        match c.kind {
            ComponentKind::S3Bucket => g.s3_bucket(&mut out)?,
            ComponentKind::LambdaFunction => g.lambda(&mut out)?,
            ComponentKind::HttpApi => g.http_api(&mut out)?,
            ComponentKind::DynamodbTable => g.dynamodb(&mut out)?,
            ComponentKind::RdsPostgres => g.rds(&mut out)?,
            ComponentKind::SqsQueue => g.sqs(&mut out)?,
            ComponentKind::SnsTopic => g.sns(&mut out)?,
            ComponentKind::CognitoUserPool => g.cognito(&mut out)?,
            ComponentKind::StaticSite => g.static_site(&mut out)?,
            ComponentKind::Schedule => g.schedule(&mut out)?,
            ComponentKind::KmsKey => g.kms(&mut out)?,
            ComponentKind::Secret => g.secret(&mut out)?,
        }
    }
    // One notification configuration per bucket (S3 keeps one), naming every function its new objects invoke.
    for (bucket, functions) in std::mem::take(&mut out.notifications) {
        let mut body = Body::builder().add_attribute(("bucket", x(&format!("{bucket}.id"))));
        for f in &functions {
            body = body.add_block(nested(
                "lambda_function",
                body! { "lambda_function_arn" => x(&format!("aws_lambda_alias.{f}.arn")), "events" => vec!["s3:ObjectCreated:*"] }.build(),
            ));
        }
        let permissions: Vec<String> =
            functions.iter().map(|f| format!("aws_lambda_permission.{f}_from_{}", tf_name(bucket.rsplit('.').next().unwrap_or(&bucket)))).collect();
        body = body.add_attribute(("depends_on", x(&format!("[{}]", permissions.join(", ")))));
        out.resources.push(resource("aws_s3_bucket_notification", &tf_name(bucket.rsplit('.').next().unwrap_or(&bucket)), body.build()));
    }
    // The endpoints follow from the types written, through the one resource table.
    let services: Vec<&'static str> = out.resources.iter().filter_map(|b| resource::lookup(b.labels().first()?.as_str())).map(|t| t.endpoint).collect();
    out.services.extend(services);
    Ok(out)
}

/// One CloudWatch alarm of a component.
/// How a trigger names the Lambda it invokes: generated functions are invoked through their `live` alias (what
/// a rollback moves), functions the design only references are invoked as they are.
struct LambdaRef {
    /// `aws_lambda_function.api` (or the existing address).
    function: String,
    /// `aws_lambda_alias.api`, for a generated function.
    alias: Option<String>,
}

impl LambdaRef {
    /// The ARN a trigger invokes: the alias's, else the function's.
    fn arn(&self) -> Expression {
        x(&format!("{}.arn", self.alias.as_ref().unwrap_or(&self.function)))
    }
    fn invoke_arn(&self) -> Expression {
        x(&format!("{}.invoke_arn", self.alias.as_ref().unwrap_or(&self.function)))
    }
    /// `aws_lambda_permission` attributes: the function and, for an alias, its qualifier.
    fn permission(&self, body: hcl::structure::BodyBuilder) -> hcl::structure::BodyBuilder {
        let body = body.add_attribute(("function_name", x(&format!("{}.function_name", self.function))));
        match &self.alias {
            Some(alias) => body.add_attribute(("qualifier", x(&format!("{alias}.name")))),
            None => body,
        }
    }
}

struct Alarm<'a> {
    suffix: &'a str,
    namespace: &'a str,
    metric: &'a str,
    dimensions: Expression,
    statistic: &'a str,
    comparison: &'a str,
    threshold: f64,
    periods: u32,
}

struct Gen<'a> {
    ctx: &'a GenContext<'a>,
    c: &'a Component,
    i: usize,
    id: String,
}

impl Gen<'_> {
    fn name(&self, suffix: &str) -> Expression {
        let resource = if suffix.is_empty() { self.c.name.clone() } else { format!("{}-{suffix}", self.c.name) };
        t(&aws_name(self.ctx.naming_pattern, &resource))
    }

    /// A name that must be unique across regions (a bucket, a role's inline policy): with the region's suffix
    /// outside the primary region of a multi-region stack.
    fn global_name(&self, suffix: &str) -> Expression {
        let resource = if suffix.is_empty() { self.c.name.clone() } else { format!("{}-{suffix}", self.c.name) };
        let name = aws_name(self.ctx.naming_pattern, &resource);
        if self.ctx.multi_region { t(&format!("{name}${{local.region_suffix}}")) } else { t(&name) }
    }

    fn settings<T: DeserializeOwned>(&self) -> Result<T, Error> {
        settings(self.i, self.c)
    }

    /// The Lambda another component invokes: a generated one through its `live` alias, an existing one directly.
    fn lambda_ref(&self, field: &str, name: &Option<String>) -> Result<LambdaRef, Error> {
        let target = name.clone().or_else(|| self.ctx.spec.components.iter().find(|o| o.kind == ComponentKind::LambdaFunction).map(|o| o.name.clone()));
        let target = target.ok_or_else(|| {
            Error::bad_input(format!("design.components[{}].settings.{field}", self.i), "names no lambda_function, and the design has none", None)
        })?;
        let component = self.ctx.spec.component(&target).filter(|o| o.kind == ComponentKind::LambdaFunction).ok_or_else(|| {
            Error::bad_input(format!("design.components[{}].settings.{field}", self.i), format!("\"{target}\" is not a lambda_function of this design"), None)
        })?;
        Ok(match &component.existing {
            Some(address) => LambdaRef { function: address.clone(), alias: None },
            None => LambdaRef { function: format!("aws_lambda_function.{}", tf_name(&target)), alias: Some(format!("aws_lambda_alias.{}", tf_name(&target))) },
        })
    }

    /// The ARN expression of a kms_key component, checked.
    fn kms_arn(&self, field: &str, name: &Option<String>) -> Result<Option<Expression>, Error> {
        let Some(name) = name else { return Ok(None) };
        let component = self.ctx.spec.component(name).filter(|o| o.kind == ComponentKind::KmsKey).ok_or_else(|| {
            Error::bad_input(format!("design.components[{}].settings.{field}", self.i), format!("\"{name}\" is not a kms_key of this design"), None)
        })?;
        let address = component.existing.clone().unwrap_or_else(|| format!("aws_kms_key.{}", tf_name(name)));
        Ok(Some(x(&format!("{address}.arn"))))
    }

    fn output(&self, out: &mut Generated, suffix: &str, value: &str, description: &str) {
        let name = format!("{}_{suffix}", self.id);
        out.outputs.push(block("output", &[&name], body! { "description" => description, "value" => x(value) }.build()));
    }

    fn alarm(&self, out: &mut Generated, a: Alarm<'_>) {
        let Alarm { suffix, namespace, metric, dimensions, statistic, comparison, threshold, periods } = a;
        out.resources.push(resource(
            "aws_cloudwatch_metric_alarm",
            &format!("{}_{}", self.id, suffix.replace('-', "_")),
            body! {
                "alarm_name" => self.name(suffix),
                "alarm_description" => format!("{metric} of {} ({namespace})", self.c.name),
                "namespace" => namespace,
                "metric_name" => metric,
                "dimensions" => dimensions,
                "statistic" => statistic,
                "period" => 300,
                "evaluation_periods" => periods,
                "threshold" => threshold,
                "comparison_operator" => comparison,
                "treat_missing_data" => "notBreaching",
            }
            .build(),
        ));
    }

    fn s3_bucket(&self, out: &mut Generated) -> Result<(), Error> {
        let s: S3 = self.settings()?;
        let kms = self.kms_arn("kms_key", &s.kms_key)?;
        self.secure_bucket(out, &self.id, self.global_name(""), s.versioning, s.noncurrent_version_expiration_days, kms);
        self.output(out, "bucket_name", &format!("aws_s3_bucket.{}.bucket", self.id), "Name of the S3 bucket");
        self.output(out, "bucket_arn", &format!("aws_s3_bucket.{}.arn", self.id), "ARN of the S3 bucket");
        Ok(())
    }

    /// A private, encrypted, versioned bucket with its split (provider v4+) resources.
    fn secure_bucket(&self, out: &mut Generated, id: &str, name: Expression, versioning: bool, noncurrent_days: u32, kms: Option<Expression>) {
        let bucket = format!("aws_s3_bucket.{id}");
        out.resources.push(resource("aws_s3_bucket", id, body! { "bucket" => name, "force_destroy" => false }.build()));
        out.resources.push(resource(
            "aws_s3_bucket_public_access_block",
            id,
            body! {
                "bucket" => x(&format!("{bucket}.id")),
                "block_public_acls" => true,
                "block_public_policy" => true,
                "ignore_public_acls" => true,
                "restrict_public_buckets" => true,
            }
            .build(),
        ));
        out.resources.push(resource(
            "aws_s3_bucket_ownership_controls",
            id,
            body! { "bucket" => x(&format!("{bucket}.id")) }.add_block(nested("rule", body! { "object_ownership" => "BucketOwnerEnforced" }.build())).build(),
        ));
        let sse = match kms {
            Some(arn) => body! { "sse_algorithm" => "aws:kms", "kms_master_key_id" => arn },
            None => body! { "sse_algorithm" => "AES256" },
        };
        out.resources.push(resource(
            "aws_s3_bucket_server_side_encryption_configuration",
            id,
            body! { "bucket" => x(&format!("{bucket}.id")) }
                .add_block(nested(
                    "rule",
                    Body::builder()
                        .add_block(nested("apply_server_side_encryption_by_default", sse.build()))
                        .add_attribute(("bucket_key_enabled", true))
                        .build(),
                ))
                .build(),
        ));
        out.resources.push(resource(
            "aws_s3_bucket_versioning",
            id,
            body! { "bucket" => x(&format!("{bucket}.id")) }
                .add_block(nested("versioning_configuration", body! { "status" => if versioning { "Enabled" } else { "Suspended" } }.build()))
                .build(),
        ));
        out.resources.push(resource(
            "aws_s3_bucket_lifecycle_configuration",
            id,
            body! { "bucket" => x(&format!("{bucket}.id")) }
                .add_block(nested(
                    "rule",
                    body! { "id" => "housekeeping", "status" => "Enabled" }
                        .add_block(nested("filter", Body::builder().build()))
                        .add_block(nested("abort_incomplete_multipart_upload", body! { "days_after_initiation" => 7 }.build()))
                        .add_block(nested("noncurrent_version_expiration", body! { "noncurrent_days" => noncurrent_days }.build()))
                        .build(),
                ))
                .build(),
        ));
        out.resources.push(resource(
            "aws_s3_bucket_policy",
            id,
            body! {
                "bucket" => x(&format!("{bucket}.id")),
                "policy" => x(&format!(
                    r#"jsonencode({{
  Version = "2012-10-17"
  Statement = [{{
    Sid       = "DenyInsecureTransport"
    Effect    = "Deny"
    Principal = "*"
    Action    = "s3:*"
    Resource  = [{bucket}.arn, "${{{bucket}.arn}}/*"]
    Condition = {{ Bool = {{ "aws:SecureTransport" = "false" }} }}
  }}]
}})"#
                )),
                "depends_on" => x(&format!("[aws_s3_bucket_public_access_block.{id}]")),
            }
            .build(),
        ));
    }

    fn lambda(&self, out: &mut Generated) -> Result<(), Error> {
        let s: Lambda = self.settings()?;
        if !crate::vocabulary::input::is_lambda_handler(&s.handler) {
            return Err(Error::bad_input(
                format!("design.components[{}].settings.handler", self.i),
                format!("\"{}\" is not a Lambda handler", s.handler.escape_default()),
                Some("MODULE.FUNCTION such as index.handler or src/app.handler (no '..', no leading '/')".into()),
            ));
        }
        let id = &self.id;
        let multi = self.ctx.multi_region;
        // The role is global: in a multi-region stack it is created in the primary region and looked up elsewhere.
        let primary_only = |b: hcl::structure::BodyBuilder| if multi { b.add_attribute(("count", x("local.primary ? 1 : 0"))) } else { b };
        let role = |attr: &str| if multi { x(&format!("aws_iam_role.{id}[0].{attr}")) } else { x(&format!("aws_iam_role.{id}.{attr}")) };
        out.resources.push(resource(
            "aws_iam_role",
            id,
            primary_only(body! {
                "name" => self.name("role"),
                "assume_role_policy" => x(r#"jsonencode({
  Version   = "2012-10-17"
  Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }]
})"#),
            })
            .build(),
        ));
        for (suffix, arn) in
            [("logs", "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"), ("xray", "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess")]
        {
            out.resources.push(resource(
                "aws_iam_role_policy_attachment",
                &format!("{id}_{suffix}"),
                primary_only(body! { "role" => role("name"), "policy_arn" => arn }).build(),
            ));
        }
        let wiring = self.wiring(&s)?;
        if !wiring.statements.is_empty() {
            let statements: Vec<String> = wiring
                .statements
                .iter()
                .map(|st| {
                    format!("{{ Sid = \"{}\", Effect = \"Allow\", Action = [{}], Resource = [{}] }}", st.sid, quoted(&st.actions), st.resources.join(", "))
                })
                .collect();
            out.resources.push(resource(
                "aws_iam_role_policy",
                &format!("{id}_access"),
                body! {
                    // One inline policy per region: each grants the actions on that region's resources.
                    "name" => self.global_name("access"),
                    "role" => if multi { self.name("role") } else { x(&format!("aws_iam_role.{id}.id")) },
                    "policy" => x(&format!("jsonencode({{\n  Version   = \"2012-10-17\"\n  Statement = [\n    {}\n  ]\n}})", statements.join(",\n    "))),
                }
                .add_attributes(multi.then(|| hcl::Attribute::new("depends_on", x(&format!("[aws_iam_role.{id}]")))))
                .build(),
            ));
        }
        let function_name = aws_name(self.ctx.naming_pattern, &self.c.name);
        out.resources.push(resource(
            "aws_cloudwatch_log_group",
            id,
            body! { "name" => t(&format!("/aws/lambda/{function_name}")), "retention_in_days" => s.log_retention_days }.build(),
        ));
        let mut function = body! {
            "function_name" => t(&function_name),
            // Outside the primary region, the ARN of the role the primary region creates (applied first).
            "role" => if multi {
                let role_name = aws_name(self.ctx.naming_pattern, &format!("{}-role", self.c.name));
                x(&format!(
                    "one(concat(aws_iam_role.{id}[*].arn, local.primary ? [] : [\"arn:${{data.aws_partition.faber.partition}}:iam::${{data.aws_caller_identity.faber.account_id}}:role/{role_name}\"]))"
                ))
            } else {
                role("arn")
            },
            "runtime" => s.runtime.as_str(),
            "handler" => s.handler.as_str(),
            "filename" => t(&format!("${{path.module}}/build/{}.zip", self.c.name)),
            // The package's digest: new code is a change Terraform sees (and a new published version). Preview
            // packages the code before planning; `try` lets `terraform validate` run before the first package.
            "source_code_hash" => x(&format!("try(filebase64sha256(\"${{path.module}}/build/{}.zip\"), null)", self.c.name)),
            "memory_size" => s.memory_mb,
            "timeout" => s.timeout_seconds,
            // Every change publishes a version; the `live` alias below points at the newest, and a rollback moves it back.
            "publish" => true,
            // A scale kept in the environment's variable file (preview or deploy with keep_remediations) wins.
            "reserved_concurrent_executions" => x(&format!(
                "lookup(var.{}, \"{id}\", {})",
                crate::infra::remembered::KEPT_CONCURRENCY,
                s.reserved_concurrency.map_or_else(|| "null".to_string(), |n| n.to_string())
            )),
        };
        if !wiring.environment.is_empty() {
            let variables: hcl::Object<hcl::ObjectKey, Expression> = wiring.environment.iter().map(|(k, v)| (hcl::ObjectKey::from(k.as_str()), x(v))).collect();
            function = function.add_block(nested("environment", Body::builder().add_attribute(("variables", Expression::Object(variables))).build()));
        }
        out.resources.push(resource(
            "aws_lambda_function",
            id,
            function
                .add_block(nested("tracing_config", body! { "mode" => "Active" }.build()))
                .add_attribute(("depends_on", x(&format!("[aws_cloudwatch_log_group.{id}, aws_iam_role_policy_attachment.{id}_logs]"))))
                .build(),
        ));
        out.resources.push(resource(
            "aws_lambda_alias",
            id,
            body! {
                "name" => "live",
                "description" => "What triggers invoke; remediate rollback points it at an earlier version",
                "function_name" => x(&format!("aws_lambda_function.{id}.function_name")),
                // The newest version, unless a rollback was kept in the environment's variable file.
                "function_version" => x(&format!("lookup(var.{}, \"{id}\", aws_lambda_function.{id}.version)", crate::infra::remembered::KEPT_VERSIONS)),
            }
            .build(),
        ));
        for trigger in &wiring.triggers {
            match trigger {
                Trigger::Bucket { id: bucket, address } => {
                    out.resources.push(resource(
                        "aws_lambda_permission",
                        &format!("{id}_from_{bucket}"),
                        body! {
                            "statement_id" => format!("AllowS3Invoke-{bucket}"),
                            "action" => "lambda:InvokeFunction",
                            "function_name" => x(&format!("aws_lambda_function.{id}.function_name")),
                            "qualifier" => x(&format!("aws_lambda_alias.{id}.name")),
                            "principal" => "s3.amazonaws.com",
                            "source_arn" => x(&format!("{address}.arn")),
                        }
                        .build(),
                    ));
                    out.notifications.entry(address.clone()).or_default().push(id.clone());
                }
                Trigger::Queue { id: queue, address } => {
                    out.resources.push(resource(
                        "aws_lambda_event_source_mapping",
                        &format!("{id}_from_{queue}"),
                        body! {
                            "event_source_arn" => x(&format!("{address}.arn")),
                            "function_name" => x(&format!("aws_lambda_alias.{id}.arn")),
                            "batch_size" => 10,
                        }
                        .add_attribute(("depends_on", x(&format!("[aws_iam_role_policy.{id}_access]"))))
                        .build(),
                    ));
                }
            }
        }
        if s.alarms {
            let dims = x(&format!("{{ FunctionName = aws_lambda_function.{id}.function_name }}"));
            self.alarm(
                out,
                Alarm {
                    suffix: "errors",
                    namespace: "AWS/Lambda",
                    metric: "Errors",
                    dimensions: dims.clone(),
                    statistic: "Sum",
                    comparison: "GreaterThanOrEqualToThreshold",
                    threshold: 1.0,
                    periods: 1,
                },
            );
            self.alarm(
                out,
                Alarm {
                    suffix: "throttles",
                    namespace: "AWS/Lambda",
                    metric: "Throttles",
                    dimensions: dims,
                    statistic: "Sum",
                    comparison: "GreaterThanOrEqualToThreshold",
                    threshold: 1.0,
                    periods: 1,
                },
            );
        }
        self.output(out, "function_name", &format!("aws_lambda_function.{id}.function_name"), "Name of the Lambda function");
        self.output(out, "function_arn", &format!("aws_lambda_function.{id}.arn"), "ARN of the Lambda function");
        self.output(out, "alias_arn", &format!("aws_lambda_alias.{id}.arn"), "ARN of the live alias (what triggers invoke)");
        Ok(())
    }

    fn http_api(&self, out: &mut Generated) -> Result<(), Error> {
        let s: HttpApi = self.settings()?;
        let lambda = self.lambda_ref("lambda", &s.lambda)?;
        let id = &self.id;
        let mut api = body! { "name" => self.name(""), "protocol_type" => "HTTP" };
        if !s.cors_origins.is_empty() {
            api = api.add_block(nested(
                "cors_configuration",
                body! { "allow_origins" => s.cors_origins.clone(), "allow_methods" => vec!["GET", "POST", "PUT", "DELETE", "OPTIONS"], "allow_headers" => vec!["authorization", "content-type"], "max_age" => 300 }.build(),
            ));
        }
        out.resources.push(resource("aws_apigatewayv2_api", id, api.build()));
        out.resources.push(resource(
            "aws_cloudwatch_log_group",
            &format!("{id}_access"),
            body! { "name" => t(&format!("/aws/apigateway/{}", aws_name(self.ctx.naming_pattern, &self.c.name))), "retention_in_days" => s.log_retention_days }
                .build(),
        ));
        out.resources.push(resource(
            "aws_apigatewayv2_integration",
            id,
            body! {
                "api_id" => x(&format!("aws_apigatewayv2_api.{id}.id")),
                "integration_type" => "AWS_PROXY",
                "integration_uri" => lambda.invoke_arn(),
                "payload_format_version" => "2.0",
            }
            .build(),
        ));
        out.resources.push(resource(
            "aws_apigatewayv2_route",
            id,
            body! {
                "api_id" => x(&format!("aws_apigatewayv2_api.{id}.id")),
                "route_key" => "$default",
                "target" => t(&format!("integrations/${{aws_apigatewayv2_integration.{id}.id}}")),
            }
            .build(),
        ));
        let access_format = r#"jsonencode({
  requestId      = "$context.requestId"
  sourceIp       = "$context.identity.sourceIp"
  requestTime    = "$context.requestTime"
  httpMethod     = "$context.httpMethod"
  routeKey       = "$context.routeKey"
  status         = "$context.status"
  responseLength = "$context.responseLength"
  latency        = "$context.responseLatency"
})"#;
        out.resources.push(resource(
            "aws_apigatewayv2_stage",
            id,
            body! { "api_id" => x(&format!("aws_apigatewayv2_api.{id}.id")), "name" => "$default", "auto_deploy" => true }
                .add_block(nested(
                    "access_log_settings",
                    body! { "destination_arn" => x(&format!("aws_cloudwatch_log_group.{id}_access.arn")), "format" => x(access_format) }.build(),
                ))
                .add_block(nested(
                    "default_route_settings",
                    body! { "throttling_rate_limit" => s.throttle_rate_limit, "throttling_burst_limit" => s.throttle_burst_limit }.build(),
                ))
                .build(),
        ));
        out.resources.push(resource(
            "aws_lambda_permission",
            &format!("{id}_invoke"),
            lambda
                .permission(body! { "statement_id" => "AllowHttpApiInvoke", "action" => "lambda:InvokeFunction" })
                .add_attribute(("principal", "apigateway.amazonaws.com"))
                .add_attribute(("source_arn", t(&format!("${{aws_apigatewayv2_api.{id}.execution_arn}}/*/*"))))
                .build(),
        ));
        if s.alarms {
            let dims = x(&format!("{{ ApiId = aws_apigatewayv2_api.{id}.id }}"));
            self.alarm(
                out,
                Alarm {
                    suffix: "5xx",
                    namespace: "AWS/ApiGateway",
                    metric: "5xx",
                    dimensions: dims,
                    statistic: "Sum",
                    comparison: "GreaterThanOrEqualToThreshold",
                    threshold: 5.0,
                    periods: 1,
                },
            );
        }
        self.output(out, "endpoint", &format!("aws_apigatewayv2_api.{id}.api_endpoint"), "URL of the HTTP API");
        Ok(())
    }

    fn dynamodb(&self, out: &mut Generated) -> Result<(), Error> {
        let s: Dynamo = self.settings()?;
        let kms = self.kms_arn("kms_key", &s.kms_key)?;
        let id = &self.id;
        let mut table = body! { "name" => self.name(""), "billing_mode" => "PAY_PER_REQUEST", "hash_key" => s.hash_key.as_str(), "deletion_protection_enabled" => s.deletion_protection };
        if let Some(range) = &s.range_key {
            table = table.add_attribute(("range_key", range.as_str()));
        }
        table = table.add_block(nested("attribute", body! { "name" => s.hash_key.as_str(), "type" => "S" }.build()));
        if let Some(range) = &s.range_key {
            table = table.add_block(nested("attribute", body! { "name" => range.as_str(), "type" => "S" }.build()));
        }
        let mut sse = body! { "enabled" => true };
        if let Some(arn) = kms {
            sse = sse.add_attribute(("kms_key_arn", arn));
        }
        table = table.add_block(nested("point_in_time_recovery", body! { "enabled" => true }.build())).add_block(nested("server_side_encryption", sse.build()));
        out.resources.push(resource("aws_dynamodb_table", id, table.build()));
        self.output(out, "table_name", &format!("aws_dynamodb_table.{id}.name"), "Name of the DynamoDB table");
        self.output(out, "table_arn", &format!("aws_dynamodb_table.{id}.arn"), "ARN of the DynamoDB table");
        Ok(())
    }

    fn rds(&self, out: &mut Generated) -> Result<(), Error> {
        let s: Rds = self.settings()?;
        let kms = self.kms_arn("kms_key", &s.kms_key)?;
        let id = &self.id;
        let mut db = body! {
            "identifier" => self.name(""),
            "engine" => "postgres",
            "engine_version" => s.engine_version.as_str(),
            "instance_class" => s.instance_class.as_str(),
            "allocated_storage" => s.allocated_storage_gb,
            "storage_type" => "gp3",
            "storage_encrypted" => true,
            "username" => "app_admin",
            "manage_master_user_password" => true,
            "publicly_accessible" => false,
            "multi_az" => s.multi_az,
            "backup_retention_period" => s.backup_retention_days,
            "deletion_protection" => s.deletion_protection,
            "skip_final_snapshot" => false,
            "final_snapshot_identifier" => self.name("final"),
            "copy_tags_to_snapshot" => true,
            "auto_minor_version_upgrade" => true,
            "iam_database_authentication_enabled" => true,
            "performance_insights_enabled" => true,
            "enabled_cloudwatch_logs_exports" => vec!["postgresql", "upgrade"],
        };
        if let Some(arn) = kms {
            db = db.add_attribute(("kms_key_id", arn.clone())).add_attribute(("performance_insights_kms_key_id", arn));
        }
        out.resources.push(resource("aws_db_instance", id, db.build()));
        if s.alarms {
            let dims = x(&format!("{{ DBInstanceIdentifier = aws_db_instance.{id}.identifier }}"));
            self.alarm(
                out,
                Alarm {
                    suffix: "cpu",
                    namespace: "AWS/RDS",
                    metric: "CPUUtilization",
                    dimensions: dims.clone(),
                    statistic: "Average",
                    comparison: "GreaterThanThreshold",
                    threshold: 80.0,
                    periods: 3,
                },
            );
            self.alarm(
                out,
                Alarm {
                    suffix: "free-storage",
                    namespace: "AWS/RDS",
                    metric: "FreeStorageSpace",
                    dimensions: dims,
                    statistic: "Average",
                    comparison: "LessThanThreshold",
                    threshold: 2.0 * 1024.0 * 1024.0 * 1024.0,
                    periods: 1,
                },
            );
        }
        self.output(out, "endpoint", &format!("aws_db_instance.{id}.endpoint"), "Endpoint of the PostgreSQL instance");
        self.output(
            out,
            "master_secret_arn",
            &format!("aws_db_instance.{id}.master_user_secret[0].secret_arn"),
            "Secrets Manager secret holding the master password",
        );
        Ok(())
    }

    fn sqs(&self, out: &mut Generated) -> Result<(), Error> {
        let s: Sqs = self.settings()?;
        let kms = self.kms_arn("kms_key", &s.kms_key)?;
        let id = &self.id;
        let encryption = |b: hcl::structure::BodyBuilder| match &kms {
            Some(arn) => b.add_attribute(("kms_master_key_id", arn.clone())),
            None => b.add_attribute(("sqs_managed_sse_enabled", true)),
        };
        out.resources.push(resource(
            "aws_sqs_queue",
            &format!("{id}_dlq"),
            encryption(body! { "name" => self.name("dlq"), "message_retention_seconds" => 14 * 24 * 3600 }).build(),
        ));
        out.resources.push(resource(
            "aws_sqs_queue",
            id,
            encryption(body! {
                "name" => self.name(""),
                "visibility_timeout_seconds" => s.visibility_timeout_seconds,
                "message_retention_seconds" => s.retention_days * 24 * 3600,
                "redrive_policy" => x(&format!("jsonencode({{ deadLetterTargetArn = aws_sqs_queue.{id}_dlq.arn, maxReceiveCount = {} }})", s.max_receive_count)),
            })
            .build(),
        ));
        if s.alarms {
            self.alarm(
                out,
                Alarm {
                    suffix: "age",
                    namespace: "AWS/SQS",
                    metric: "ApproximateAgeOfOldestMessage",
                    dimensions: x(&format!("{{ QueueName = aws_sqs_queue.{id}.name }}")),
                    statistic: "Maximum",
                    comparison: "GreaterThanThreshold",
                    threshold: 300.0,
                    periods: 1,
                },
            );
            self.alarm(
                out,
                Alarm {
                    suffix: "dlq",
                    namespace: "AWS/SQS",
                    metric: "ApproximateNumberOfMessagesVisible",
                    dimensions: x(&format!("{{ QueueName = aws_sqs_queue.{id}_dlq.name }}")),
                    statistic: "Maximum",
                    comparison: "GreaterThanOrEqualToThreshold",
                    threshold: 1.0,
                    periods: 1,
                },
            );
        }
        self.output(out, "queue_url", &format!("aws_sqs_queue.{id}.url"), "URL of the SQS queue");
        self.output(out, "queue_arn", &format!("aws_sqs_queue.{id}.arn"), "ARN of the SQS queue");
        Ok(())
    }

    fn sns(&self, out: &mut Generated) -> Result<(), Error> {
        let s: Sns = self.settings()?;
        let kms = self.kms_arn("kms_key", &s.kms_key)?.unwrap_or_else(|| Expression::from("alias/aws/sns"));
        out.resources.push(resource("aws_sns_topic", &self.id, body! { "name" => self.name(""), "kms_master_key_id" => kms }.build()));
        self.output(out, "topic_arn", &format!("aws_sns_topic.{}.arn", self.id), "ARN of the SNS topic");
        Ok(())
    }

    fn cognito(&self, out: &mut Generated) -> Result<(), Error> {
        let s: Cognito = self.settings()?;
        if !matches!(s.mfa.as_str(), "OFF" | "ON" | "OPTIONAL") {
            return Err(Error::bad_input(
                format!("design.components[{}].settings.mfa", self.i),
                format!("\"{}\" is not accepted", s.mfa),
                Some("OFF, ON, OPTIONAL".into()),
            ));
        }
        let id = &self.id;
        out.resources.push(resource(
            "aws_cognito_user_pool",
            id,
            body! {
                "name" => self.name(""),
                "username_attributes" => vec!["email"],
                "auto_verified_attributes" => vec!["email"],
                "mfa_configuration" => s.mfa.as_str(),
                "deletion_protection" => "ACTIVE",
            }
            .add_block(nested(
                "password_policy",
                body! {
                    "minimum_length" => s.password_min_length,
                    "require_lowercase" => true,
                    "require_uppercase" => true,
                    "require_numbers" => true,
                    "require_symbols" => true,
                    "temporary_password_validity_days" => 3,
                }
                .build(),
            ))
            .add_block(nested("software_token_mfa_configuration", body! { "enabled" => true }.build()))
            .add_block(nested(
                "account_recovery_setting",
                Body::builder().add_block(nested("recovery_mechanism", body! { "name" => "verified_email", "priority" => 1 }.build())).build(),
            ))
            .build(),
        ));
        let mut client = body! {
            "name" => self.name("client"),
            "user_pool_id" => x(&format!("aws_cognito_user_pool.{id}.id")),
            "generate_secret" => false,
            "prevent_user_existence_errors" => "ENABLED",
            "explicit_auth_flows" => vec!["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        };
        if !s.callback_urls.is_empty() {
            client = client
                .add_attribute(("callback_urls", s.callback_urls.clone()))
                .add_attribute(("allowed_oauth_flows_user_pool_client", true))
                .add_attribute(("allowed_oauth_flows", vec!["code"]))
                .add_attribute(("allowed_oauth_scopes", vec!["openid", "email"]))
                .add_attribute(("supported_identity_providers", vec!["COGNITO"]));
        }
        out.resources.push(resource("aws_cognito_user_pool_client", id, client.build()));
        self.output(out, "user_pool_id", &format!("aws_cognito_user_pool.{id}.id"), "Id of the Cognito user pool");
        self.output(out, "client_id", &format!("aws_cognito_user_pool_client.{id}.id"), "Id of the user pool client");
        Ok(())
    }

    fn static_site(&self, out: &mut Generated) -> Result<(), Error> {
        if self.ctx.multi_region {
            return Err(Error::bad_input(
                format!("design.components[{}]", self.i),
                "static_site is served by CloudFront, which is global, and is not generated into a multi-region stack yet",
                Some("deploy the site from an environment with one region (environments.ENV.regions), or from a separate project".into()),
            ));
        }
        let s: StaticSite = self.settings()?;
        let id = &self.id;
        let bucket_id = format!("{id}_content");
        self.secure_bucket_without_policy(out, &bucket_id, self.name("content"));
        out.resources.push(resource(
            "aws_cloudfront_origin_access_control",
            id,
            body! { "name" => self.name("oac"), "origin_access_control_origin_type" => "s3", "signing_behavior" => "always", "signing_protocol" => "sigv4" }
                .build(),
        ));
        out.resources.push(resource(
            "aws_cloudfront_distribution",
            id,
            body! { "enabled" => true, "is_ipv6_enabled" => true, "default_root_object" => s.default_root_object.as_str(), "price_class" => s.price_class.as_str(), "comment" => self.name("") }
                .add_block(nested(
                    "origin",
                    body! {
                        "origin_id" => "content",
                        "domain_name" => x(&format!("aws_s3_bucket.{bucket_id}.bucket_regional_domain_name")),
                        "origin_access_control_id" => x(&format!("aws_cloudfront_origin_access_control.{id}.id")),
                    }
                    .build(),
                ))
                .add_block(nested(
                    "default_cache_behavior",
                    body! {
                        "target_origin_id" => "content",
                        "viewer_protocol_policy" => "redirect-to-https",
                        "allowed_methods" => vec!["GET", "HEAD"],
                        "cached_methods" => vec!["GET", "HEAD"],
                        "compress" => true,
                        // The AWS-managed CachingOptimized policy.
                        "cache_policy_id" => "658327ea-f89d-4fab-a63d-7e88639e58f6",
                    }
                    .build(),
                ))
                .add_block(nested("restrictions", Body::builder().add_block(nested("geo_restriction", body! { "restriction_type" => "none" }.build())).build()))
                .add_block(nested("viewer_certificate", body! { "cloudfront_default_certificate" => true, "minimum_protocol_version" => "TLSv1.2_2021" }.build()))
                .build(),
        ));
        out.resources.push(resource(
            "aws_s3_bucket_policy",
            &bucket_id,
            body! {
                "bucket" => x(&format!("aws_s3_bucket.{bucket_id}.id")),
                "policy" => x(&format!(
                    r#"jsonencode({{
  Version = "2012-10-17"
  Statement = [
    {{
      Sid       = "AllowCloudFrontRead"
      Effect    = "Allow"
      Principal = {{ Service = "cloudfront.amazonaws.com" }}
      Action    = "s3:GetObject"
      Resource  = "${{aws_s3_bucket.{bucket_id}.arn}}/*"
      Condition = {{ StringEquals = {{ "AWS:SourceArn" = aws_cloudfront_distribution.{id}.arn }} }}
    }},
    {{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.{bucket_id}.arn, "${{aws_s3_bucket.{bucket_id}.arn}}/*"]
      Condition = {{ Bool = {{ "aws:SecureTransport" = "false" }} }}
    }}
  ]
}})"#
                )),
                "depends_on" => x(&format!("[aws_s3_bucket_public_access_block.{bucket_id}]")),
            }
            .build(),
        ));
        self.output(out, "domain_name", &format!("aws_cloudfront_distribution.{id}.domain_name"), "CloudFront domain of the site");
        self.output(out, "content_bucket", &format!("aws_s3_bucket.{bucket_id}.bucket"), "Bucket holding the site's files");
        Ok(())
    }

    /// The static site's bucket: like `secure_bucket`, but its policy also lets CloudFront read.
    fn secure_bucket_without_policy(&self, out: &mut Generated, id: &str, name: Expression) {
        self.secure_bucket(out, id, name, true, 30, None);
        // The generic deny-only policy is replaced by the site's own policy.
        out.resources.retain(|b| {
            !(b.identifier() == "resource"
                && b.labels().first().map(|l| l.as_str()) == Some("aws_s3_bucket_policy")
                && b.labels().get(1).map(|l| l.as_str()) == Some(id))
        });
    }

    fn schedule(&self, out: &mut Generated) -> Result<(), Error> {
        let s: Schedule = self.settings()?;
        let lambda = self.lambda_ref("lambda", &s.lambda)?;
        let id = &self.id;
        out.resources.push(resource(
            "aws_cloudwatch_event_rule",
            id,
            body! { "name" => self.name(""), "schedule_expression" => s.expression.as_str() }.build(),
        ));
        out.resources.push(resource(
            "aws_cloudwatch_event_target",
            id,
            body! { "rule" => x(&format!("aws_cloudwatch_event_rule.{id}.name")), "arn" => lambda.arn() }.build(),
        ));
        out.resources.push(resource(
            "aws_lambda_permission",
            &format!("{id}_invoke"),
            lambda
                .permission(body! { "statement_id" => "AllowEventBridgeInvoke", "action" => "lambda:InvokeFunction" })
                .add_attribute(("principal", "events.amazonaws.com"))
                .add_attribute(("source_arn", x(&format!("aws_cloudwatch_event_rule.{id}.arn"))))
                .build(),
        ));
        self.output(out, "rule_arn", &format!("aws_cloudwatch_event_rule.{id}.arn"), "ARN of the schedule rule");
        Ok(())
    }

    fn kms(&self, out: &mut Generated) -> Result<(), Error> {
        let s: Kms = self.settings()?;
        if !(7..=30).contains(&s.deletion_window_days) {
            return Err(Error::bad_input(
                format!("design.components[{}].settings.deletion_window_days", self.i),
                format!("{} is out of range", s.deletion_window_days),
                Some("7 to 30".into()),
            ));
        }
        let id = &self.id;
        out.resources.push(resource(
            "aws_kms_key",
            id,
            body! { "description" => self.name(""), "enable_key_rotation" => true, "deletion_window_in_days" => s.deletion_window_days }.build(),
        ));
        out.resources.push(resource("aws_kms_alias", id, body! { "name" => t(&format!("alias/{}", aws_name(self.ctx.naming_pattern, &self.c.name))), "target_key_id" => x(&format!("aws_kms_key.{id}.key_id")) }.build()));
        self.output(out, "key_arn", &format!("aws_kms_key.{id}.arn"), "ARN of the KMS key");
        Ok(())
    }

    fn secret(&self, out: &mut Generated) -> Result<(), Error> {
        let s: Secret = self.settings()?;
        let kms = self.kms_arn("kms_key", &s.kms_key)?;
        let mut secret = body! { "name" => self.name(""), "recovery_window_in_days" => s.recovery_window_days };
        if let Some(arn) = kms {
            secret = secret.add_attribute(("kms_key_id", arn));
        }
        out.resources.push(resource("aws_secretsmanager_secret", &self.id, secret.build()));
        self.output(out, "secret_arn", &format!("aws_secretsmanager_secret.{}.arn", self.id), "ARN of the secret (its value is set outside Terraform)");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every resource type the catalog writes is in the resource table (endpoint, label, console, verify…).
    #[test]
    fn every_generated_type_is_in_the_resource_table() {
        let mut components = vec![serde_json::json!({"type": "lambda_function", "name": "handler"})];
        for kind in ComponentKind::ALL.into_iter().filter(|k| *k != ComponentKind::LambdaFunction) {
            let mut c = serde_json::json!({"type": kind.as_str(), "name": format!("c-{}", kind.as_str().replace('_', "-"))});
            if matches!(kind, ComponentKind::HttpApi | ComponentKind::Schedule) {
                c["settings"] = serde_json::json!({"lambda": "handler"});
            }
            components.push(c);
        }
        let spec = DesignSpec::parse(&serde_json::json!({"version": 1, "feature": "everything", "components": components}).to_string()).unwrap();
        let out = generate(&GenContext { naming_pattern: "{project}-{subsystem}-{environment}-{resource}", spec: &spec, multi_region: false }).unwrap();
        let missing: Vec<String> = out.resources.iter().map(|b| b.labels()[0].as_str().to_string()).filter(|t| resource::lookup(t).is_none()).collect();
        assert!(missing.is_empty(), "types written by the catalog but missing from vocabulary::resource::TYPES: {missing:?}");
        for s in [
            "sts",
            "iam",
            "s3",
            "lambda",
            "logs",
            "cloudwatch",
            "apigatewayv2",
            "dynamodb",
            "rds",
            "secretsmanager",
            "sqs",
            "sns",
            "cognitoidp",
            "cloudfront",
            "events",
            "kms",
        ] {
            assert!(out.services.contains(s), "endpoint {s} missing from {:?}", out.services);
        }
    }
}

// ----- connections between components ---------------------------------------

/// What a function's connections generate: the statements of its role's policy, its environment, its triggers.
#[derive(Default)]
struct Wiring {
    statements: Vec<Statement>,
    /// Variable name → expression (`ORDERS_TABLE` → `aws_dynamodb_table.orders.name`).
    environment: BTreeMap<String, String>,
    triggers: Vec<Trigger>,
}

struct Statement {
    sid: String,
    actions: Vec<&'static str>,
    /// Expressions (`aws_dynamodb_table.orders.arn`, `"${aws_s3_bucket.uploads.arn}/*"`).
    resources: Vec<String>,
}

enum Trigger {
    Bucket { id: String, address: String },
    Queue { id: String, address: String },
}

/// What a function may do with a component it uses, and the variable that names it.
struct Grant {
    actions: &'static [&'static str],
    /// On the objects (`arn/*`) rather than the resource itself.
    objects: bool,
    /// The environment variable's suffix (`TABLE` → `ORDERS_TABLE`) and the attribute it holds.
    variable: &'static str,
    attribute: &'static str,
}

/// The one table of connections: kind × use → the least-privilege actions and the variable.
fn grant(kind: ComponentKind, how: Use) -> Option<Grant> {
    let g = |actions, objects, variable, attribute| Some(Grant { actions, objects, variable, attribute });
    match (kind, how) {
        (ComponentKind::S3Bucket, Use::Read | Use::Trigger) => g(&["s3:GetObject"], true, "BUCKET", "id"),
        (ComponentKind::S3Bucket, Use::Write) => g(&["s3:PutObject"], true, "BUCKET", "id"),
        (ComponentKind::DynamodbTable, Use::Read) => g(&["dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"], false, "TABLE", "name"),
        (ComponentKind::DynamodbTable, Use::Write) => {
            g(&["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"], false, "TABLE", "name")
        }
        (ComponentKind::SqsQueue, Use::Read | Use::Trigger) => {
            g(&["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"], false, "QUEUE_URL", "url")
        }
        (ComponentKind::SqsQueue, Use::Write) => g(&["sqs:SendMessage"], false, "QUEUE_URL", "url"),
        (ComponentKind::SnsTopic, Use::Write) => g(&["sns:Publish"], false, "TOPIC_ARN", "arn"),
        (ComponentKind::Secret, Use::Read) => g(&["secretsmanager:GetSecretValue"], false, "SECRET_ARN", "arn"),
        _ => None,
    }
}

/// One connection of a design, as the design document's table shows it.
pub struct Connection {
    pub from: String,
    pub to: String,
    pub how: String,
    pub actions: String,
}

/// Every connection a design's functions declare (`reads`, `writes`, `triggered_by`), in the document's words.
pub fn connections(spec: &DesignSpec) -> Vec<Connection> {
    let mut out = Vec::new();
    for c in spec.components.iter().filter(|c| c.kind == ComponentKind::LambdaFunction) {
        let list = |field: &str| -> Vec<String> {
            c.settings.get(field).and_then(|v| v.as_array()).map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default()
        };
        for (field, how) in [("triggered_by", Use::Trigger), ("reads", Use::Read), ("writes", Use::Write)] {
            for name in list(field) {
                let Some(other) = spec.component(&name) else { continue };
                let Some(g) = grant(other.kind, how) else { continue };
                let variable = format!("{}_{}", tf_name(&name).to_uppercase(), g.variable);
                let (from, to, how) = match (how, other.kind) {
                    (Use::Trigger, ComponentKind::S3Bucket) => {
                        (name.clone(), c.name.clone(), format!("each new object invokes the live alias (S3 notification); {variable}"))
                    }
                    (Use::Trigger, _) => (name.clone(), c.name.clone(), format!("each message invokes the live alias (event source mapping); {variable}")),
                    (Use::Read, _) => (c.name.clone(), name.clone(), format!("reads; {variable}")),
                    (Use::Write, _) => (c.name.clone(), name.clone(), format!("writes; {variable}")),
                };
                out.push(Connection { from, to, how, actions: g.actions.join(", ") });
            }
        }
    }
    out
}

/// How a function uses a component.
#[derive(Clone, Copy, PartialEq)]
enum Use {
    Read,
    Write,
    Trigger,
}

fn quoted(actions: &[&str]) -> String {
    actions.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(", ")
}

/// `orders` → `Orders` (a statement id may hold only letters and digits).
fn sid_part(name: &str) -> String {
    name.split(['-', '_']).map(|w| w[..1].to_uppercase() + &w[1..]).collect()
}

impl Gen<'_> {
    /// The policy statements, environment and triggers of a function's `reads`, `writes` and `triggered_by`.
    fn wiring(&self, s: &Lambda) -> Result<Wiring, Error> {
        let mut w = Wiring::default();
        let uses = s
            .reads
            .iter()
            .map(|n| ("reads", n, Use::Read))
            .chain(s.writes.iter().map(|n| ("writes", n, Use::Write)))
            .chain(s.triggered_by.iter().map(|n| ("triggered_by", n, Use::Trigger)));
        for (field, name, how) in uses {
            let at = format!("design.components[{}].settings.{field}", self.i);
            let other = self.ctx.spec.component(name).ok_or_else(|| Error::bad_input(&at, format!("\"{name}\" is not a component of this design"), None))?;
            let id = tf_name(&other.name);
            let address = other.existing.clone().unwrap_or_else(|| format!("{}.{id}", other.kind.primary_type()));
            let env = |suffix: &str| format!("{}_{suffix}", id.to_uppercase());
            let arn = format!("{address}.arn");
            let sid = |verb: &str| format!("{verb}{}", sid_part(&other.name));
            let Some(grant) = grant(other.kind, how) else {
                let accepted = match how {
                    Use::Read => "s3_bucket, dynamodb_table, sqs_queue, secret",
                    Use::Write => "s3_bucket, dynamodb_table, sqs_queue, sns_topic",
                    Use::Trigger => "s3_bucket, sqs_queue",
                };
                return Err(Error::bad_input(
                    &at,
                    format!("\"{name}\" is a {}, which a function cannot use this way", other.kind.as_str()),
                    Some(accepted.into()),
                ));
            };
            let resources = vec![if grant.objects { format!("\"${{{arn}}}/*\"") } else { arn.clone() }];
            let variable = Some((env(grant.variable), format!("{address}.{}", grant.attribute)));
            let actions = grant.actions.to_vec();
            let verb = match how {
                Use::Read => "Read",
                Use::Write => "Write",
                Use::Trigger => "Consume",
            };
            w.statements.push(Statement { sid: sid(verb), actions, resources });
            // Data encrypted with a key of the design is readable and writable only with that key.
            if let Some(key) = other.settings.get("kms_key").and_then(|k| k.as_str()).and_then(|k| self.ctx.spec.component(k)) {
                let sid = format!("UseKey{}", sid_part(&key.name));
                if !w.statements.iter().any(|st| st.sid == sid) {
                    let address = key.existing.clone().unwrap_or_else(|| format!("aws_kms_key.{}", tf_name(&key.name)));
                    w.statements.push(Statement { sid, actions: vec!["kms:Decrypt", "kms:GenerateDataKey"], resources: vec![format!("{address}.arn")] });
                }
            }
            if let Some((k, v)) = variable {
                w.environment.insert(k, v);
            }
            match (other.kind, how) {
                (ComponentKind::S3Bucket, Use::Trigger) => w.triggers.push(Trigger::Bucket { id, address }),
                (ComponentKind::SqsQueue, Use::Trigger) => w.triggers.push(Trigger::Queue { id, address }),
                _ => {}
            }
        }
        Ok(w)
    }
}
