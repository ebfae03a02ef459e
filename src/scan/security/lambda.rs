//! Lambda functions, their URLs and permissions: tracing, dead-letter queues,
//! reserved concurrency, secrets and encryption of environment variables,
//! unauthenticated URLs, public invoke permissions, deprecated runtimes.

use super::secrets::{has_access_key_id, has_secret_access_key, plausible_secret_value, secret_like_name};
use super::{Hit, Module, Rule, Severity, each, links, require_set, setting};
use crate::tf::Val;

pub static TRACING: Rule = Rule {
    id: "FC_LAMBDA_001",
    severity: Severity::Low,
    title: "Lambda function does not have active X-Ray tracing",
    // Checkov also accepts mode = "PassThrough", which traces only requests that arrive already sampled.
    checkov_id: Some("CKV_AWS_50"),
    fix: "Add tracing_config { mode = \"Active\" } and allow xray:PutTraceSegments in the function's role.",
    check: tracing,
};

pub static DLQ: Rule = Rule {
    id: "FC_LAMBDA_002",
    severity: Severity::Low,
    title: "Lambda function has no dead-letter queue or failure destination",
    // Unlike Checkov, an aws_lambda_function_event_invoke_config with an on_failure destination also passes.
    checkov_id: Some("CKV_AWS_116"),
    fix: "Add dead_letter_config { target_arn = <SQS queue or SNS topic ARN> }, or an on_failure destination in aws_lambda_function_event_invoke_config.",
    check: dlq,
};

pub static CONCURRENCY: Rule = Rule {
    id: "FC_LAMBDA_003",
    severity: Severity::Low,
    title: "Lambda function has no reserved concurrency limit",
    checkov_id: Some("CKV_AWS_115"),
    fix: "Set reserved_concurrent_executions to the most this function should run at once, so one function cannot exhaust the account's concurrency.",
    check: concurrency,
};

pub static ENV_SECRETS: Rule = Rule {
    id: "FC_LAMBDA_004",
    severity: Severity::High,
    title: "Lambda environment variables hold hard-coded secrets",
    // Checkov looks for secret-shaped values; we also flag literal values of secret-named variables.
    checkov_id: Some("CKV_AWS_45"),
    fix: "Keep secrets in Secrets Manager or SSM Parameter Store (SecureString) and pass only their names or ARNs; read them at run time.",
    check: env_secrets,
};

pub static URL_AUTH: Rule = Rule {
    id: "FC_LAMBDA_005",
    severity: Severity::High,
    title: "Lambda function URL has no authentication",
    checkov_id: Some("CKV_AWS_258"),
    fix: "Set authorization_type = \"AWS_IAM\", or front the function with API Gateway and an authorizer.",
    check: url_auth,
};

pub static ENV_KMS: Rule = Rule {
    id: "FC_LAMBDA_006",
    severity: Severity::Low,
    title: "Lambda environment variables are not encrypted with a customer managed key",
    checkov_id: Some("CKV_AWS_173"),
    fix: "Set kms_key_arn to a customer managed KMS key when the function has environment variables.",
    check: env_kms,
};

pub static PUBLIC_PERMISSION: Rule = Rule {
    id: "FC_LAMBDA_007",
    severity: Severity::High,
    title: "Lambda permission lets any principal invoke the function",
    // Checkov fails every principal "*"; we accept one narrowed by principal_org_id or source_account.
    checkov_id: Some("CKV_AWS_301"),
    fix: "Name the calling service or account in principal (e.g. \"s3.amazonaws.com\") with source_arn and source_account.",
    check: public_permission,
};

pub static DEPRECATED_RUNTIME: Rule = Rule {
    id: "FC_LAMBDA_008",
    severity: Severity::Medium,
    title: "Lambda function uses a deprecated runtime",
    checkov_id: Some("CKV_AWS_363"),
    fix: "Move to a supported runtime (python3.12+, nodejs20.x+, java21, dotnet8, provided.al2023); deprecated runtimes get no security patches.",
    check: deprecated_runtime,
};

/// Runtimes AWS no longer patches (Checkov's list and nodejs18.x, deprecated 2025-09-01).
const DEPRECATED: &[&str] = &[
    "nodejs",
    "nodejs4.3",
    "nodejs4.3-edge",
    "nodejs6.10",
    "nodejs8.10",
    "nodejs10.x",
    "nodejs12.x",
    "nodejs14.x",
    "nodejs16.x",
    "nodejs18.x",
    "python2.7",
    "python3.6",
    "python3.7",
    "python3.8",
    "python3.9",
    "dotnetcore1.0",
    "dotnetcore2.0",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "dotnet5.0",
    "dotnet6",
    "dotnet7",
    "ruby2.5",
    "ruby2.7",
    "java8",
    "go1.x",
    "provided",
];

const FUNCTIONS: &[&str] = &["aws_lambda_function"];

fn tracing(m: &Module) -> Vec<Hit<'_>> {
    each(m, FUNCTIONS, "tracing_config", |r| match setting(r, "tracing_config.mode") {
        s if s.is_absent() => Some("no tracing_config (X-Ray is off)".into()),
        s => s.as_str().filter(|mode| *mode != "Active").map(|mode| format!("tracing_config.mode = \"{mode}\"")),
    })
}

fn dlq(m: &Module) -> Vec<Hit<'_>> {
    each(m, FUNCTIONS, "dead_letter_config", |r| {
        require_set(r, "dead_letter_config.target_arn")?;
        let configs = links(m, "aws_lambda_function_event_invoke_config", "function_name", r, &["function_name", "arn"]);
        if configs.unresolved || configs.found.iter().any(|c| !setting(c, "destination_config.on_failure.destination").is_absent()) {
            return None;
        }
        Some("no dead_letter_config and no on_failure destination: failed asynchronous events are lost".into())
    })
}

fn concurrency(m: &Module) -> Vec<Hit<'_>> {
    each(m, FUNCTIONS, "reserved_concurrent_executions", |r| {
        let limit = setting(r, "reserved_concurrent_executions");
        if limit.is_absent() {
            Some("reserved_concurrent_executions is not set".into())
        } else if limit.as_num() == Some(-1.0) {
            Some("reserved_concurrent_executions = -1 (unreserved)".into())
        } else {
            None
        }
    })
}

fn env_secrets(m: &Module) -> Vec<Hit<'_>> {
    each(m, FUNCTIONS, "environment", |r| {
        let Some(Val::Map(vars)) = r.path("environment.variables") else { return None };
        let names: Vec<&str> = vars
            .iter()
            .filter_map(|(name, v)| {
                let value = v.as_str()?;
                let secret = has_access_key_id(value) || has_secret_access_key(value) || (secret_like_name(name) && plausible_secret_value(value));
                secret.then_some(name.as_str())
            })
            .collect();
        (!names.is_empty()).then(|| format!("environment variable(s) {} hold literal secret values", names.join(", ")))
    })
}

fn url_auth(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_lambda_function_url"], "authorization_type", |r| {
        (setting(r, "authorization_type").as_str() == Some("NONE")).then(|| "authorization_type = \"NONE\": anyone with the URL can invoke the function".into())
    })
}

fn env_kms(m: &Module) -> Vec<Hit<'_>> {
    each(m, FUNCTIONS, "kms_key_arn", |r| {
        // An empty map (`variables = {}`) holds nothing to encrypt.
        let empty = matches!(r.path("environment.variables"), Some(Val::Map(m)) if m.is_empty());
        let has_vars = !setting(r, "environment.variables").is_absent() && !empty;
        (has_vars && setting(r, "kms_key_arn").is_absent()).then(|| "environment variables are set and kms_key_arn is not".into())
    })
}

fn public_permission(m: &Module) -> Vec<Hit<'_>> {
    each(m, &["aws_lambda_permission"], "principal", |r| {
        let narrowed = !setting(r, "principal_org_id").is_absent() || !setting(r, "source_account").is_absent();
        (setting(r, "principal").as_str() == Some("*") && !narrowed).then(|| "principal = \"*\" without principal_org_id or source_account".into())
    })
}

fn deprecated_runtime(m: &Module) -> Vec<Hit<'_>> {
    each(m, FUNCTIONS, "runtime", |r| {
        let runtime = setting(r, "runtime").as_str()?;
        DEPRECATED.contains(&runtime).then(|| format!("runtime = \"{runtime}\" is deprecated"))
    })
}

super::simple_rule!(
    CODE_SIGNING,
    "FC_LAMBDA_009",
    Low,
    "Lambda function does not verify code signatures",
    Some("CKV_AWS_272"),
    ["aws_lambda_function"],
    "code_signing_config_arn",
    |r| super::require_set(r, "code_signing_config_arn"),
    "Create an aws_lambda_code_signing_config with your signing profile and set code_signing_config_arn on the function.",
);
