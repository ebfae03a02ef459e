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
    // Promotion: the environment it moves from is not the target.
    check("promote test to prod", "infra deploy prod");
    check("ship it from test to production", "infra deploy prod");
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
    investigates_first("fix the failing service", "test");
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
    // The environment still counts when the operation is unclear.
    check("what's running in prod?", "infra show-resources prod");
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

/// `FABER_ROUTE="request" cargo test --lib director::tests::explain -- --ignored --nocapture`
#[test]
#[ignore = "a tool for reading one routing"]
fn explain() {
    let request = std::env::var("FABER_ROUTE").unwrap_or_default();
    let words = lexicon::tokenize(&request);
    let scoped = scope(&words);
    let questions = lexicon::question_clauses(&words);
    for (i, w) in words.iter().enumerate() {
        let role = match classify_word(&words, i) {
            lexicon::Role::Verb(v) => format!("verb {v:?}"),
            lexicon::Role::Generic(g) => format!("generic {g:?}"),
            lexicon::Role::Other => String::new(),
        };
        println!("{:>14} {:?} q={} {role}", w.text, scoped[i], questions[i]);
    }
    println!("{:?}", lexicon::Objects::collect(&words, &scoped));
    println!("{:?}", route(&request, &Context { envs: &envs(), explicit_env: None }));
}

/// `FABER_PROBES=file cargo test --lib director::tests::probe -- --ignored --nocapture`:
/// one line per request, one line of routing each.
#[test]
#[ignore = "a tool for reading many routings"]
fn probe() {
    let path = std::env::var("FABER_PROBES").unwrap_or_default();
    for request in std::fs::read_to_string(path).unwrap_or_default().lines().filter(|l| !l.trim().is_empty()) {
        let got = match route(request, &Context { envs: &envs(), explicit_env: None }) {
            Routing::Routed(i) => format!("{} {} {:?} {:?}", i.target.operation(), i.env, i.args.action, i.args.focus),
            Routing::Clarify(c) => format!("clarify [{}]", c.choices.iter().map(|c| format!("{} {}", c.operation, c.env)).collect::<Vec<_>>().join(", ")),
            Routing::InvestigateFirst { investigate, .. } => format!("investigate-first {}", investigate.env),
            Routing::Unsupported { .. } => "unsupported".into(),
            Routing::UnknownEnv { named, .. } => format!("unknown env {named}"),
        };
        println!("{got:<45} <- {request}");
    }
}

fn unsupported(request: &str) {
    match route(request, &Context { envs: &envs(), explicit_env: None }) {
        Routing::Unsupported { reason } => assert!(reason.contains("It can design infrastructure"), "{request:?}: {reason}"),
        other => panic!("{request:?} should be unsupported, got {other:?}"),
    }
}

fn investigates_first(request: &str, env: &str) {
    match route(request, &Context { envs: &envs(), explicit_env: None }) {
        Routing::InvestigateFirst { investigate, remedies } => {
            assert_eq!((investigate.target.operation(), investigate.env.as_str()), ("investigate", env), "{request:?}");
            let offered: Vec<String> = remedies.choices.iter().map(|c| format!("{} {} {:?}", c.operation, c.env, c.intent.args.action)).collect();
            assert_eq!(offered, [format!("remediate {env} Some(Restart)"), format!("remediate {env} Some(Rollback)"), format!("remediate {env} Some(Scale)")]);
        }
        other => panic!("{request:?} should investigate first, got {other:?}"),
    }
}

fn with_envs(request: &str, envs: &[&str], expected: &str) {
    let envs: Vec<String> = envs.iter().map(|e| e.to_string()).collect();
    let intent = routed(request, &envs);
    assert_eq!(format!("{} {}", intent.target.operation(), intent.env), expected, "{request:?}");
}

#[test]
fn the_words_people_use() {
    // Synonyms and phrasal verbs.
    check("spin up the infra in dev", "infra deploy test");
    check("roll out to live", "infra deploy prod");
    check("ship it to production", "infra deploy prod");
    check("push the latest changes to prod", "infra deploy prod");
    check("I need a DynamoDB table for sessions, design it", "infra architect test feature=it");
    check("sketch a queue for order events", "infra architect test");
    check("plan out the infrastructure for a webhook receiver", "infra architect test");
    check("dig into the checkout errors in prod", "ops investigate prod");
    check("what is causing the 500s on the orders api in production", "ops investigate prod service=orders-api");
    check("what's wrong with the payments service in prod", "ops investigate prod service=payments");
    check("find unencrypted S3 buckets in prod", "ops audit prod focus=security");
    check("which resources are untagged in test", "ops audit test focus=compliance");
    check("are any alarms firing in production", "ops check-health prod");
    check("kick the payments-worker lambda in test", "ops remediate test service=payments-worker; action=restart");
    check("dry run the prod deploy", "infra preview-changes prod");
    check("run checkov over the config", "infra test test");
    with_envs("how much is staging costing us", &["test", "staging", "prod"], "audit staging");
    // Typos: one slip in words of 4+ letters, two in words of 8+.
    check("deplyo to tset", "infra deploy test");
    check("investgate erors in the payments service", "ops investigate test service=payments");
    check("chek helth of prodcution", "ops check-health prod");
    // The ending of a known word: the present asks, the past tells.
    check("restarting the api lambda in prod", "ops remediate prod service=api-lambda; action=restart");
}

#[test]
fn negation_keeps_what_it_does_not_negate() {
    check("don't deploy to prod, just preview", "infra preview-changes prod");
    check("restart nothing in production, just show the logs", "ops query-logs prod");
    check("skip the tests and deploy to test", "infra deploy test skip_tests=true");
    check("deploy to test, not prod", "infra deploy test");
    check("not in prod: check the health", "ops check-health test");
    with_envs("don't deploy to prod, only to staging this time", &["test", "staging", "prod"], "deploy staging");
    check("don't apply anything yet, just the plan for prod", "infra preview-changes prod");
    check("don't touch prod - roll back the payments-worker in test", "ops remediate test service=payments-worker; action=rollback");
}

#[test]
fn questions_never_mutate() {
    check("what happens if I deploy to prod?", "infra preview-changes prod");
    check("is it safe to deploy to production?", "infra preview-changes prod");
    // A question about a remediation offers what to look at first, never the remediation.
    clarifies("should I roll back the api lambda in prod?", &["investigate prod", "check-health prod"]);
    clarifies("can we restart the orders api in prod?", &["investigate prod", "check-health prod"]);
    clarifies("how do I scale the workers in prod?", &["analyze-performance prod", "check-health prod"]);
    check("would a deploy to prod destroy anything?", "infra preview-changes prod");
    // What something not yet deployed would cost is the pre-deployment estimate.
    check("what would it cost per month if we deployed this to prod?", "infra test prod");
    // Asking the assistant to act is a request.
    check("can you deploy to test?", "infra deploy test");
    check("could you restart the api lambda", "ops remediate test service=api-lambda; action=restart");
}

#[test]
fn outside_the_product_nothing_runs() {
    for request in [
        "write me a poem",
        "write a haiku about terraform",
        "hello there",
        "what's the weather like",
        "translate this error message into Spanish: 'connection refused'",
        "calculate 17% of 2,340",
        "order a pizza",
        "fix my CSS",
        "restart my laptop",
        "clean up unused resources",
        "delete the old logs",
        "drop the orders table in the prod postgres",
        "delete all the buckets",
    ] {
        unsupported(request);
    }
    // Taking one component out revises the design (the deploy shows the data loss and asks).
    check("delete the sessions table", "infra architect test feature=delete the sessions table");
    check("remove the uploads bucket from prod", "infra architect prod feature=remove the uploads bucket from prod");
    check("give the api lambda 1024 MB", "infra architect test feature=give the api lambda 1024 MB");
    check("bump the worker to 2GB of memory", "infra architect test feature=bump the worker to 2GB of memory");
    // A whole environment is torn down through the gate (always confirmed).
    check("tear down prod", "infra destroy prod");
    check("destroy the test environment", "infra destroy test");
    check("tear down the test environment", "infra destroy test");
    check("nuke everything in test", "infra destroy test");
    check("wipe the whole stack, we're done with it", "infra destroy test");
    // A question about a teardown asks what it would do.
    check("would a deploy to prod destroy anything?", "infra preview-changes prod");
    // A failed deployment stays ours even with few words.
    check("deploy failed, help", "infra debug test");
    check("the apply errored with 'AccessDenied: iam:PassRole'", "infra debug test error=AccessDenied: iam:PassRole");
}

#[test]
fn environments_are_read_in_context() {
    // The clause of the operation decides between environments.
    check("it works in test; now deploy to prod", "infra deploy prod");
    with_envs("deploy to stage", &["dev", "staging", "prod"], "deploy staging");
    with_envs("check the development logs", &["dev", "test", "prod"], "query-logs dev");
    match route("deploy to production", &Context { envs: &["test".into(), "prod-eu".into(), "prod-us".into()], explicit_env: None }) {
        Routing::Clarify(c) => assert_eq!(c.choices.iter().map(|c| c.env.as_str()).collect::<Vec<_>>(), ["prod-eu", "prod-us"]),
        other => panic!("two prod-like environments should ask, got {other:?}"),
    }
}

/// On the tuning half of the evaluation set (the test half is for measuring
/// only): no out-of-scope request runs, no question mutates, and no choice
/// of a clarification mutates production unless the request named that
/// action. `cargo bench --bench director` reports both halves.
#[test]
fn no_unrequested_mutation_on_the_tuning_half() {
    // The first set's tuning half, and the later sets that joined it whole.
    let sets = [
        (include_str!("../../tests/fixtures/director/requests.jsonl"), true),
        (include_str!("../../tests/fixtures/director/requests-2.jsonl"), false),
        (include_str!("../../tests/fixtures/director/requests-3.jsonl"), false),
        (include_str!("../../tests/fixtures/director/requests-4.jsonl"), false),
    ];
    let mut checked = 0;
    for line in sets.iter().flat_map(|(text, _)| text.lines().map(move |l| (l, text))).filter(|(l, _)| !l.trim().is_empty()) {
        let (line, text) = line;
        let split = sets.iter().any(|(t, split)| std::ptr::eq(*t, *text) && *split);
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        let request = case["request"].as_str().unwrap();
        if split && !crate::eval::in_tuning_half(request) {
            continue;
        }
        checked += 1;
        let envs: Vec<String> = case["envs"].as_array().map_or_else(envs, |a| a.iter().map(|e| e.as_str().unwrap().to_string()).collect());
        let ops: Vec<&str> = case["ops"].as_array().unwrap().iter().map(|o| o.as_str().unwrap()).collect();
        let routing = route(request, &Context { envs: &envs, explicit_env: None });
        let mutating = |i: &Intent| matches!(i.target.operation(), "deploy" | "remediate" | "destroy");
        match &routing {
            Routing::Routed(i) | Routing::InvestigateFirst { investigate: i, .. } => {
                assert!(case["unsupported"] != true, "{request:?} is out of scope but routed to {}", i.target.operation());
                assert!(!mutating(i) || ops.contains(&i.target.operation()), "{request:?} mutates with {}", i.target.operation());
            }
            Routing::Clarify(c) => {
                let words = lexicon::tokenize(request);
                for choice in c.choices.iter().filter(|c| mutating(&c.intent) && c.env.starts_with("prod")) {
                    let named = (0..words.len()).any(|k| {
                        let mut proposed = Vec::new();
                        if let lexicon::Role::Verb(v) = classify_word(&words, k) {
                            lexicon::verb_targets(v, &lexicon::Objects::default(), &mut proposed);
                        }
                        proposed.contains(&choice.intent.target)
                    });
                    assert!(named, "{request:?} offers {} on {} without asking for it", choice.operation, choice.env);
                }
            }
            Routing::Unsupported { .. } | Routing::UnknownEnv { .. } => {}
        }
    }
    assert!(checked > 800, "the tuning half has {checked} requests");
}

#[test]
fn fourth_round_families() {
    // A phrasal verb written with a hyphen.
    check("dry-run the terraform against prod", "infra preview-changes prod");
    // A failed apply is the debugger's, whatever it was creating.
    check("the apply blew up saying the S3 bucket already exists, figure out why", "infra debug test");
    // "work out what …" looks into something.
    check("help me work out what's going on with the orders service in prod", "ops investigate prod service=orders");
    // An amount before a capacity is a scale; a question about it reads.
    check("we need more ECS tasks for the web tier in prod", "ops remediate prod action=scale");
    clarifies("do we need more ECS tasks for the web tier in prod?", &["analyze-performance prod", "check-health prod"]);
    // An everyday topic inside a request about the stack; an earlier version back.
    check(
        "the billing lambda computes the wrong tax since the release, we want the previous version back in prod",
        "ops remediate prod service=billing-lambda; action=rollback",
    );
    // Validity of code; a purpose of work done is told, not asked.
    check("I edited main.tf to add a bucket policy, tell me whether the configuration is valid", "infra validate-config test");
    // A terse environment after what to do there.
    check("health test", "ops check-health test");
    // Deliberation, and whether an action is all right, ask about it.
    clarifies("thinking about scaling prod up, thoughts?", &["analyze-performance prod", "check-health prod"]);
    check("ok to redeploy prod?", "infra preview-changes prod");
    for request in [
        "draft the release notes for version 2.3",
        "send a message to the on-call channel that prod is down",
        "set up a Jira board for the infra team",
        "fix the failing jest test in the frontend",
        "write a Dockerfile for the Flask app",
        "explain how Kubernetes pods differ from deployments",
        "what is the difference between an ALB and an NLB",
        "terminate the old ec2 instances in test",
        "create a gcs bucket for backups",
    ] {
        unsupported(request);
    }
}

#[test]
fn regions_by_code_or_by_place() {
    check("deploy to prod in eu-west-1", "infra deploy prod region=eu-west-1");
    check("check health in Frankfurt", "ops check-health test region=eu-central-1");
    check("show me error logs from the api lambda in us-east-1 prod", "ops query-logs prod service=api-lambda; filter=ERROR; region=us-east-1");
    check("preview the changes to test in Tokyo", "infra preview-changes test region=ap-northeast-1");
    // Two regions named: none is guessed.
    check("check health of test in eu-west-1 and us-east-1", "ops check-health test");
    // A place that is not an AWS region, and a word that only looks like one.
    check("deploy to test", "infra deploy test");
}
