//! Table tests: every example phrase of the user guide, then the cases a
//! person would expect to work (word order, negation, mixed requests).

use super::*;

fn envs() -> Vec<String> {
    vec!["prod".into(), "test".into()]
}

fn routed(request: &str, envs: &[String]) -> Intent {
    match route(request, &Context { envs, explicit_env: None }) {
        Routing::Routed(intent) => intent,
        other => panic!("{request:?} should route, got {other:?}"),
    }
}

/// `expected` is "manager operation env" then `key=value` pairs for every argument.
fn check(request: &str, expected: &str) {
    let intent = routed(request, &envs());
    let got = describe(&intent);
    let mut parts = expected.split_whitespace();
    let manager = parts.next().unwrap();
    let operation = parts.next().unwrap();
    let env = parts.next().unwrap();
    let mut want: BTreeMap<&str, String> = BTreeMap::new();
    want.insert("manager", format!("{manager}-manager"));
    want.insert("operation", operation.into());
    want.insert("env", env.into());
    let rest: Vec<&str> = parts.collect();
    for kv in rest.join(" ").split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap();
        want.insert(Box::leak(k.trim().to_string().into_boxed_str()), v.trim().to_string());
    }
    assert_eq!(got, want, "request {request:?}");
}

fn clarifies(request: &str, expected: &[&str]) {
    match route(request, &Context { envs: &envs(), explicit_env: None }) {
        Routing::Clarify(c) => {
            let got: Vec<String> = c.choices.iter().map(|c| format!("{} {}", c.operation, c.env)).collect();
            assert_eq!(got, expected, "request {request:?}");
            for (i, choice) in c.choices.iter().enumerate() {
                assert_eq!(choice.n, i + 1);
            }
        }
        other => panic!("{request:?} should ask, got {other:?}"),
    }
}

#[test]
fn every_user_guide_phrase_routes() {
    // Infrastructure examples.
    check("design an S3 bucket for user uploads", "infra architect test feature=S3 bucket for user uploads");
    check("create infrastructure for an API service", "infra architect test feature=API service");
    check("generate terraform code from the design", "infra engineer test");
    check("validate my terraform configuration", "infra validate-config test");
    check("preview changes before deploying", "infra preview-changes test");
    check("deploy to test environment", "infra deploy test");
    check("deploy to production", "infra deploy prod");
    check("show me all deployed resources", "infra show-resources test");
    check("deploy my infrastructure to test", "infra deploy test");
    check("design infrastructure for user authentication", "infra architect test feature=user authentication");
    check("implement the user authentication design", "infra engineer test design=user-authentication");
    check("test my infrastructure before deploying", "infra test test");
    check("preview what will change in test", "infra preview-changes test");
    check("show me deployed resources in test", "infra show-resources test");
    check("debug the deployment error", "infra debug test");
    check("deploy to test", "infra deploy test");
    check("design API service", "infra architect test feature=API service");
    check("implement the design", "infra engineer test");
    check("test the infrastructure", "infra test test");
    // Operations examples.
    check("check health of my services", "ops check-health test");
    check("monitor production", "ops check-health prod");
    check("show me the logs from Lambda", "ops query-logs test service=lambda");
    check("investigate errors in API service", "ops investigate test service=api");
    check("fix the failing service", "ops remediate test");
    check("restart the Lambda function", "ops remediate test service=lambda; action=restart");
    check("analyze costs for test environment", "ops audit test focus=cost");
    check("audit security posture", "ops audit test focus=security");
    check("roll back API Lambda to previous version", "ops remediate test service=api-lambda; action=rollback");
    check("show me errors from the last hour", "ops query-logs test filter=ERROR; timeframe=1h");
    check("check health of production services", "ops check-health prod");
    check("show me error logs from API Lambda", "ops query-logs test service=api-lambda; filter=ERROR");
    check("investigate errors in API service", "ops investigate test service=api");
    check("analyze performance of API Lambda", "ops analyze-performance test service=api-lambda");
    check("restart API Lambda in production", "ops remediate prod service=api-lambda; action=restart");
    check("check health of test services", "ops check-health test");
    check("investigate production errors", "ops investigate prod");
    check("check health of production", "ops check-health prod");
    check("analyze costs for production", "ops audit prod focus=cost");
    check("audit security for production", "ops audit prod focus=security");
    check("analyze costs", "ops audit test focus=cost");
    // The guide's own ambiguous example.
    clarifies("check my infrastructure", &["check-health test", "validate-config test", "show-resources test"]);
}

#[test]
fn environments() {
    for (request, env) in [
        ("deploy to dev", "test"),
        ("deploy to development", "test"),
        ("deploy to testing", "test"),
        ("deploy to live", "prod"),
        ("deploy to PROD", "prod"),
        ("Deploy to Production!", "prod"),
        ("deploy", "test"),
        ("check health of the test environment", "test"),
    ] {
        assert_eq!(routed(request, &envs()).env, env, "{request}");
    }
    assert_eq!(routed("deploy", &envs()).env_source, EnvSource::Default);
    assert_eq!(routed("deploy to prod", &envs()).env_source, EnvSource::Detected);
    // staging only when configured.
    let with_staging = vec!["prod".to_string(), "staging".to_string(), "test".to_string()];
    assert_eq!(routed("deploy to staging", &with_staging).env, "staging");
    match route("deploy to staging", &Context { envs: &envs(), explicit_env: None }) {
        Routing::UnknownEnv { named, configured } => {
            assert_eq!(named, "staging");
            assert_eq!(configured, envs());
        }
        other => panic!("{other:?}"),
    }
    // A configured name is used as written: "dev" stays dev when dev exists.
    let dev = vec!["dev".to_string(), "prod".to_string()];
    assert_eq!(routed("deploy to dev", &dev).env, "dev");
    assert_eq!(routed("deploy to test", &dev).env, "dev");
    // The explicit argument wins.
    let ctx = Context { envs: &envs(), explicit_env: Some("prod") };
    match route("check health", &ctx) {
        Routing::Routed(i) => assert_eq!((i.env.as_str(), i.env_source), ("prod", EnvSource::Explicit)),
        other => panic!("{other:?}"),
    }
    // Two environments: ask which.
    clarifies("deploy to test and prod", &["deploy test", "deploy prod"]);
    // A negated environment does not count.
    assert_eq!(routed("deploy to test, not prod", &envs()).env, "test");
}

#[test]
fn word_order_does_not_matter() {
    for request in ["errors in the API service: investigate", "API service errors, investigate them", "investigate API service errors"] {
        let i = routed(request, &envs());
        assert_eq!(i.target, Target::Ops(OpsOperation::Investigate), "{request}");
        assert_eq!(i.args.service.as_deref(), Some("api"), "{request}");
    }
    for request in ["to production, deploy", "production deploy", "deploy production"] {
        let i = routed(request, &envs());
        assert_eq!((i.target, i.env.as_str()), (Target::Infra(InfraOperation::Deploy), "prod"), "{request}");
    }
    check("logs from API Lambda, last 2 hours", "ops query-logs test service=api-lambda; timeframe=2h");
    check("the Lambda function: restart it", "ops remediate test service=lambda; action=restart");
}

#[test]
fn negation_removes_the_negated_operation() {
    check("don't deploy, just preview the changes", "infra preview-changes test");
    check("do not restart anything, show me the logs", "ops query-logs test");
    check("check health of the API Lambda but don't restart it", "ops check-health test service=api-lambda");
    check("check health but don't restart the API Lambda", "ops check-health test");
    check("deploy to test without running the tests", "infra deploy test skip_tests=true");
    check("deploy to test, skip the preview", "infra deploy test skip_preview=true");
    check("never mind the logs, restart the worker", "ops remediate test service=worker; action=restart");
    check("check health after deploying to production", "ops check-health prod");
    // Only a negated verb: nothing to run, so ask.
    match route("don't deploy to prod", &Context { envs: &envs(), explicit_env: None }) {
        Routing::Clarify(c) => assert!(c.choices.iter().all(|c| c.operation != "deploy"), "{c:?}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn mixed_requests_ask_instead_of_guessing() {
    clarifies("deploy to prod and restart the API Lambda", &["deploy prod", "remediate prod"]);
    clarifies("check the logs and restart the lambda", &["query-logs test", "remediate test"]);
    clarifies("debug it", &["debug test", "investigate test"]);
    clarifies("design and deploy an S3 bucket", &["architect test", "deploy test"]);
    clarifies("hello there", &["check-health test", "validate-config test", "show-resources test", "preview-changes test", "query-logs test"]);
    // The environment still counts when the operation is unclear.
    clarifies("what's running in prod?", &["check-health prod", "validate-config prod", "show-resources prod", "preview-changes prod", "query-logs prod"]);
}

#[test]
fn arguments() {
    check("query logs for \"Database timeout\" in prod over the last 24 hours", "ops query-logs prod filter=Database timeout; timeframe=24h");
    check("show the last 50 errors from orders-queue", "ops query-logs test service=orders-queue; filter=ERROR; limit=50");
    check("show warnings from the past 7 days", "ops query-logs test filter=WARN; timeframe=7d");
    check("scale the API Lambda to 20", "ops remediate test service=api-lambda; action=scale; target=20");
    check("audit compliance in prod", "ops audit prod focus=compliance");
    check("debug \"AccessDenied: s3:CreateBucket\"", "infra debug test error=AccessDenied: s3:CreateBucket");
    check("debug the terraform error \"AccessDenied\"", "infra debug test error=AccessDenied");
    check("implement design user-auth.md", "infra engineer test design=user-auth");
    check("design a scheduled job that cleans up old uploads in the test environment", "infra architect test feature=scheduled job that cleans up old uploads");
    check("why is the payments service slow", "ops analyze-performance test service=payments");
    check("why did the deployment fail", "infra debug test");
    check("fix the terraform deployment error", "infra debug test");
    check("how much does prod cost", "ops audit prod focus=cost");
    check("is the API Lambda healthy in prod?", "ops check-health prod service=api-lambda");
    check("roll back the deploy", "ops remediate test action=rollback");
    check("scale down the workers to 2 in prod", "ops remediate prod service=workers; action=scale; target=2");
    check("give me the incident report for the outage", "ops investigate test");
    check("what changed in prod", "infra preview-changes prod");
    check("tail the logs of the payments service", "ops query-logs test service=payments");
    check("scan my terraform for security issues", "infra test test");
    check("list everything deployed in prod", "infra show-resources prod");
}

#[test]
fn dont_contraction_and_quotes_tokenize() {
    let words = lexicon::tokenize("Don't deploy \"a b\" roll back");
    let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
    assert_eq!(texts, vec!["dont", "deploy", "a b", "rollback"]);
}
