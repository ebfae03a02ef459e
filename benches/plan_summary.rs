//! Plan summary speed on a generated 10,000-resource plan (with planned_values,
//! prior_state and configuration, as real plans carry), next to parsing the
//! same document into a full `serde_json::Value` for reference.
//! Run: cargo bench --bench plan_summary

use std::hint::black_box;
use std::time::Instant;

use serde_json::{Value, json};

fn resource(i: usize) -> (Value, Value) {
    let address = format!("aws_s3_bucket.b{i}");
    let before = if i.is_multiple_of(4) {
        Value::Null
    } else {
        json!({"bucket": format!("bucket-{i}"), "acl": "private", "force_destroy": false, "tags": {"Env": "test", "Team": "a"}, "versioning": [{"enabled": false, "mfa_delete": false}], "id": format!("bucket-{i}")})
    };
    let after = if i % 10 == 9 {
        Value::Null
    } else {
        json!({"bucket": format!("bucket-{i}"), "acl": "private", "force_destroy": i.is_multiple_of(3), "tags": {"Env": "test", "Team": "b"}, "versioning": [{"enabled": true, "mfa_delete": false}]})
    };
    let actions = match (before.is_null(), after.is_null()) {
        (true, _) => json!(["create"]),
        (false, true) => json!(["delete"]),
        _ if i.is_multiple_of(7) => json!(["delete", "create"]),
        _ => json!(["update"]),
    };
    let change = json!({
        "address": address, "mode": "managed", "type": "aws_s3_bucket", "name": format!("b{i}"),
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {"actions": actions, "before": before, "after": after, "after_unknown": {"id": true, "arn": true}, "before_sensitive": {}, "after_sensitive": {}}
    });
    let planned = json!({"address": format!("aws_s3_bucket.b{i}"), "mode": "managed", "type": "aws_s3_bucket", "name": format!("b{i}"), "values": after});
    (change, planned)
}

fn main() {
    let n = 10_000;
    let (changes, planned): (Vec<Value>, Vec<Value>) = (0..n).map(resource).unzip();
    let plan = json!({
        "format_version": "1.2", "terraform_version": "1.11.4",
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "prior_state": {"values": {"root_module": {"resources": planned}}},
        "configuration": {"root_module": {"resources": []}}
    });
    let bytes = serde_json::to_vec(&plan).unwrap();
    drop(plan);
    println!("plan: {n} resources, {:.1} MB", bytes.len() as f64 / 1e6);
    let runs = 7;
    let mut ours = Vec::new();
    let mut full = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let s = faber_cloud::iac::plan::summarize(black_box(&bytes)).unwrap();
        ours.push(t.elapsed().as_secs_f64() * 1000.0);
        black_box(s);
        let t = Instant::now();
        let v: Value = serde_json::from_slice(black_box(&bytes)).unwrap();
        full.push(t.elapsed().as_secs_f64() * 1000.0);
        black_box(v);
    }
    ours.sort_by(f64::total_cmp);
    full.sort_by(f64::total_cmp);
    let s = faber_cloud::iac::plan::summarize(&bytes).unwrap();
    println!("summary: {} ({} listed)", s.counts(), s.resources.len());
    println!("summarize (streaming): median {:.1} ms over {runs} runs", ours[runs / 2]);
    println!("full serde_json::Value parse, for reference: median {:.1} ms", full[runs / 2]);
}
