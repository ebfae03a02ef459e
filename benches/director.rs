//! Director speed: microseconds per request over the user guide's phrases.
//! Run: cargo bench --bench director

use std::hint::black_box;
use std::time::Instant;

use faber_cloud::director::{Context, Routing, route};

const PHRASES: &[&str] = &[
    "design an S3 bucket for user uploads",
    "create infrastructure for an API service",
    "generate terraform code from the design",
    "validate my terraform configuration",
    "preview changes before deploying",
    "deploy to test environment",
    "deploy to production",
    "show me all deployed resources",
    "check health of my services",
    "monitor production",
    "show me the logs from Lambda",
    "investigate errors in API service",
    "fix the failing service",
    "restart the Lambda function",
    "analyze costs for test environment",
    "audit security posture",
    "roll back API Lambda to previous version",
    "show me errors from the last hour",
    "test my infrastructure before deploying",
    "implement the user authentication design",
    "debug the deployment error",
    "check my infrastructure",
];

fn main() {
    let envs = vec!["prod".to_string(), "test".to_string()];
    let ctx = Context { envs: &envs, explicit_env: None };
    let rounds = 2_000;
    // Warm up.
    for p in PHRASES {
        black_box(route(p, &ctx));
    }
    let started = Instant::now();
    let mut routed = 0usize;
    for _ in 0..rounds {
        for p in PHRASES {
            if matches!(black_box(route(black_box(p), &ctx)), Routing::Routed(_)) {
                routed += 1;
            }
        }
    }
    let elapsed = started.elapsed();
    let per = elapsed.as_secs_f64() * 1e6 / (rounds * PHRASES.len()) as f64;
    println!("director: {} requests in {:.3} s: {per:.2} µs/request ({routed} routed)", rounds * PHRASES.len(), elapsed.as_secs_f64());
}
