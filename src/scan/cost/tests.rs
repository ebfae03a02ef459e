use std::path::PathBuf;

use super::*;
use crate::tf;

fn table() -> &'static PriceTable {
    PriceTable::embedded()
}

fn module(hcl: &str) -> Module {
    tf::load_sources(&[("main.tf".to_string(), hcl.to_string())]).unwrap_or_else(|e| panic!("{e}"))
}

fn usage(json: &str) -> Usage {
    Usage::from_json(json, "usage.json", table()).unwrap_or_else(|e| panic!("{e}"))
}

fn cost_of(hcl: &str, address: &str, usage: &Usage, region: &str) -> ResourceCost {
    let m = module(hcl);
    let e = estimate(&m, table(), usage, region);
    e.resources.into_iter().find(|r| r.address == address).unwrap_or_else(|| panic!("{address} not in the estimate"))
}

fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() < 0.005
}

enum Expect {
    Priced(f64),
    Free(&'static str),
    Unpriced(&'static str),
}

/// One resource, in us-east-1 with default usage, checked against its expected outcome.
#[track_caller]
fn check(hcl: &str, address: &str, expect: Expect) {
    let r = cost_of(hcl, address, &Usage::default(), "us-east-1");
    let shown = serde_json::to_string_pretty(&r).unwrap();
    match expect {
        Expect::Priced(monthly) => {
            assert_eq!(r.status, CostStatus::Priced, "{shown}");
            assert!(close(r.monthly, monthly), "expected {monthly}, got {}\n{shown}", r.monthly);
            let sum: f64 = r.components.iter().map(|c| c.monthly).sum();
            assert!(close(sum, r.monthly), "components add up\n{shown}");
        }
        Expect::Free(reason) => {
            assert_eq!(r.status, CostStatus::Free, "{shown}");
            assert_eq!(r.monthly, 0.0);
            assert!(r.reason.as_deref().unwrap_or("").contains(reason), "{shown}");
        }
        Expect::Unpriced(reason) => {
            assert_eq!(r.status, CostStatus::Unpriced, "{shown}");
            assert_eq!(r.monthly, 0.0);
            assert!(r.reason.as_deref().unwrap_or("").contains(reason), "{shown}");
        }
    }
}

const T3_MICRO: &str = r#"
resource "aws_instance" "web" {
  ami           = "ami-123"
  instance_type = "t3.micro"
}
"#;

#[test]
fn embedded_table_loads_and_is_consistent() {
    let t = table();
    assert_eq!(t.meta.currency, "USD");
    assert_eq!(t.meta.region, "us-east-1");
    assert!(!t.meta.table_date.is_empty() && t.meta.provenance.to_lowercase().contains("not fetched live"));
    assert_eq!(t.region_factor("us-east-1"), Some(1.0));
    for region in [
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "eu-west-1",
        "eu-central-1",
        "eu-west-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-northeast-1",
        "ca-central-1",
        "sa-east-1",
    ] {
        assert!(t.region_factor(region).is_some(), "{region}");
    }
    // A type is either priced by a rule or free, never both.
    for kind in priced_types() {
        assert!(t.free_reason(kind).is_none(), "{kind} is priced and listed free");
    }
    // Every usage section belongs to a priced type.
    for kind in t.usage.keys() {
        assert!(priced_types().contains(&kind.as_str()), "usage for {kind}, which no rule prices");
    }
    for kind in &t.global_types {
        assert!(priced_types().contains(&kind.as_str()), "global type {kind} is not priced");
    }
    assert_eq!(t.free_reason("aws_iam_role_policy_attachment"), Some("IAM has no charge"));
    assert!(t.free_reason("aws_neptune_cluster").is_none());
}

#[test]
fn table_errors_name_the_json_path() {
    let mut json: serde_json::Value = serde_json::from_str(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/prices/aws-us-east-1.json"))).unwrap();
    json["prices"]["lambda"]["requests_per_milion"] = serde_json::json!(0.2);
    let err = PriceTable::from_json(&json.to_string()).unwrap_err();
    assert!(err.contains("prices.lambda") && err.contains("requests_per_milion"), "{err}");
    let mut json: serde_json::Value = serde_json::from_str(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/prices/aws-us-east-1.json"))).unwrap();
    json["prices"]["s3"]["storage_gb_month"][2]["up_to"] = serde_json::json!(10);
    let err = PriceTable::from_json(&json.to_string()).unwrap_err();
    assert!(err.starts_with("prices.s3.storage_gb_month"), "{err}");
}

#[test]
fn resources_priced_free_or_unpriced() {
    let cases: &[(&str, &str, Expect)] = &[
        // 730 h × $0.0104 = $7.59, plus the assumed 8 GB gp2 root volume ($0.80).
        (T3_MICRO, "aws_instance.web", Expect::Priced(8.39)),
        (
            r#"resource "aws_instance" "web" {
                 instance_type = "t3.micro"
                 root_block_device {
                   volume_size = 20
                   volume_type = "gp3"
                 }
               }"#,
            "aws_instance.web",
            Expect::Priced(7.592 + 1.6),
        ),
        (
            r#"variable "instance_type" {}
               resource "aws_instance" "web" { instance_type = var.instance_type }"#,
            "aws_instance.web",
            Expect::Unpriced("instance_type is not known until apply (`var.instance_type`)"),
        ),
        (
            r#"resource "aws_instance" "web" { instance_type = "x9.huge" }"#,
            "aws_instance.web",
            Expect::Unpriced("instance type x9.huge is not in the price table"),
        ),
        // db.t3.micro MySQL single-AZ: 730 × $0.017 + 20 GB × $0.115.
        (
            r#"resource "aws_db_instance" "db" {
                 engine            = "mysql"
                 instance_class    = "db.t3.micro"
                 allocated_storage = 20
                 storage_type      = "gp2"
               }"#,
            "aws_db_instance.db",
            Expect::Priced(12.41 + 2.30),
        ),
        (
            r#"resource "aws_db_instance" "db" {
                 engine            = "postgres"
                 instance_class    = "db.t3.micro"
                 allocated_storage = 20
                 multi_az          = true
               }"#,
            "aws_db_instance.db",
            Expect::Priced(2.0 * (730.0 * 0.018 + 20.0 * 0.115)),
        ),
        (
            r#"resource "aws_db_instance" "db" {
                 engine = "oracle-se2"
                 instance_class = "db.t3.micro"
                 allocated_storage = 20
               }"#,
            "aws_db_instance.db",
            Expect::Unpriced("engine oracle-se2 is not in the price table"),
        ),
        // Default usage: 1M requests × 200 ms at 128 MB = 25,000 GB-s.
        (r#"resource "aws_lambda_function" "api" { function_name = "api" }"#, "aws_lambda_function.api", Expect::Priced(0.20 + 25_000.0 * 0.0000166667)),
        (
            r#"resource "aws_lambda_function" "api" {
                 memory_size   = 1024
                 architectures = ["arm64"]
               }"#,
            "aws_lambda_function.api",
            Expect::Priced(0.20 + 200_000.0 * 0.0000133334),
        ),
        // A read replica takes its engine and storage from its source.
        (
            r#"resource "aws_db_instance" "db" {
                 engine            = "mysql"
                 instance_class    = "db.t3.small"
                 allocated_storage = 20
               }
               resource "aws_db_instance" "replica" {
                 replicate_source_db = aws_db_instance.db.identifier
                 instance_class      = "db.t3.micro"
               }"#,
            "aws_db_instance.replica",
            Expect::Priced(12.41 + 2.30),
        ),
        (
            r#"resource "aws_rds_cluster" "c" { engine = "aurora-postgresql" }
               resource "aws_rds_cluster_instance" "i" {
                 cluster_identifier = aws_rds_cluster.c.id
                 instance_class     = "db.serverless"
               }"#,
            "aws_rds_cluster_instance.i",
            Expect::Priced(0.5 * 730.0 * 0.12),
        ),
        (r#"resource "aws_rds_cluster" "c" { engine = "aurora-postgresql" }"#, "aws_rds_cluster.c", Expect::Priced(1.0 + 0.20)),
        (r#"resource "aws_rds_cluster" "c" { engine = "postgres" }"#, "aws_rds_cluster.c", Expect::Unpriced("Multi-AZ DB clusters are not in the price table")),
        (r#"resource "aws_neptune_cluster" "g" {}"#, "aws_neptune_cluster.g", Expect::Unpriced("aws_neptune_cluster is not in the price table")),
        (r#"resource "aws_iam_role" "r" { name = "r" }"#, "aws_iam_role.r", Expect::Free("IAM has no charge")),
        (r#"resource "aws_security_group" "sg" {}"#, "aws_security_group.sg", Expect::Free("network configuration")),
        (r#"resource "aws_s3_bucket_policy" "p" { bucket = "b" }"#, "aws_s3_bucket_policy.p", Expect::Free("bucket configuration")),
        (r#"resource "aws_lambda_permission" "p" {}"#, "aws_lambda_permission.p", Expect::Free("function configuration")),
        (r#"resource "random_id" "x" {}"#, "random_id.x", Expect::Free("not an AWS resource")),
        // 10 GB × $0.023 + 10k PUT × $0.005/1k + 100k GET × $0.0004/1k.
        (r#"resource "aws_s3_bucket" "b" { bucket = "b" }"#, "aws_s3_bucket.b", Expect::Priced(0.23 + 0.05 + 0.04)),
        (
            r#"resource "aws_dynamodb_table" "t" {
                 name           = "t"
                 read_capacity  = 5
                 write_capacity = 5
               }"#,
            "aws_dynamodb_table.t",
            Expect::Priced(5.0 * 730.0 * 0.00065 + 5.0 * 730.0 * 0.00013 + 0.25),
        ),
        (r#"resource "aws_dynamodb_table" "t" { billing_mode = "PAY_PER_REQUEST" }"#, "aws_dynamodb_table.t", Expect::Priced(0.625 + 5.0 * 0.125 + 0.25)),
        (r#"resource "aws_dynamodb_table" "t" { name = "t" }"#, "aws_dynamodb_table.t", Expect::Unpriced("without write_capacity")),
        (r#"resource "aws_nat_gateway" "n" {}"#, "aws_nat_gateway.n", Expect::Priced(32.85 + 0.45)),
        (r#"resource "aws_lb" "l" {}"#, "aws_lb.l", Expect::Priced(730.0 * 0.0225 + 730.0 * 0.008)),
        (r#"resource "aws_alb" "l" { load_balancer_type = "network" }"#, "aws_alb.l", Expect::Priced(730.0 * 0.0225 + 730.0 * 0.006)),
        (r#"resource "aws_cloudwatch_log_group" "g" { name = "/x" }"#, "aws_cloudwatch_log_group.g", Expect::Priced(0.50 + 0.03)),
        (r#"resource "aws_sqs_queue" "q" {}"#, "aws_sqs_queue.q", Expect::Priced(0.40)),
        (r#"resource "aws_sqs_queue" "q" { fifo_queue = true }"#, "aws_sqs_queue.q", Expect::Priced(0.50)),
        (r#"resource "aws_sns_topic" "t" {}"#, "aws_sns_topic.t", Expect::Priced(0.50)),
        (r#"resource "aws_apigatewayv2_api" "a" { protocol_type = "HTTP" }"#, "aws_apigatewayv2_api.a", Expect::Priced(1.00)),
        (r#"resource "aws_apigatewayv2_api" "a" { protocol_type = "WEBSOCKET" }"#, "aws_apigatewayv2_api.a", Expect::Priced(1.00 + 0.25)),
        (r#"resource "aws_api_gateway_rest_api" "a" {}"#, "aws_api_gateway_rest_api.a", Expect::Priced(3.50)),
        (r#"resource "aws_api_gateway_stage" "s" {}"#, "aws_api_gateway_stage.s", Expect::Free("without a cache cluster")),
        (r#"resource "aws_api_gateway_stage" "s" { cache_cluster_enabled = true }"#, "aws_api_gateway_stage.s", Expect::Priced(730.0 * 0.02)),
        (r#"resource "aws_cloudfront_distribution" "d" {}"#, "aws_cloudfront_distribution.d", Expect::Priced(0.85 + 1.00)),
        (r#"resource "aws_kms_key" "k" {}"#, "aws_kms_key.k", Expect::Priced(1.0 + 0.03)),
        (r#"resource "aws_secretsmanager_secret" "s" {}"#, "aws_secretsmanager_secret.s", Expect::Priced(0.40 + 0.05)),
        (
            r#"resource "aws_ebs_volume" "v" {
                 type = "io1"
                 size = 100
                 iops = 1000
               }"#,
            "aws_ebs_volume.v",
            Expect::Priced(12.5 + 65.0),
        ),
        (r#"resource "aws_ebs_volume" "v" { size = 100 }"#, "aws_ebs_volume.v", Expect::Priced(10.0)),
        (r#"resource "aws_ebs_volume" "v" { snapshot_id = "snap-1" }"#, "aws_ebs_volume.v", Expect::Unpriced("comes from the snapshot")),
        (
            r#"resource "aws_elasticache_cluster" "c" {
                 engine          = "redis"
                 node_type       = "cache.t3.micro"
                 num_cache_nodes = 1
               }"#,
            "aws_elasticache_cluster.c",
            Expect::Priced(730.0 * 0.017),
        ),
        (r#"resource "aws_cognito_user_pool" "p" {}"#, "aws_cognito_user_pool.p", Expect::Priced(15.0)),
        (r#"resource "aws_cognito_user_pool" "p" { user_pool_tier = "LITE" }"#, "aws_cognito_user_pool.p", Expect::Priced(5.5)),
        (r#"resource "aws_cloudwatch_metric_alarm" "a" { period = 300 }"#, "aws_cloudwatch_metric_alarm.a", Expect::Priced(0.10)),
        (r#"resource "aws_cloudwatch_metric_alarm" "a" { period = 10 }"#, "aws_cloudwatch_metric_alarm.a", Expect::Priced(0.30)),
        (r#"resource "aws_eip" "ip" {}"#, "aws_eip.ip", Expect::Priced(3.65)),
        (r#"resource "aws_route53_zone" "z" { name = "example.com" }"#, "aws_route53_zone.z", Expect::Priced(0.50 + 0.40)),
        (r#"resource "aws_vpc_endpoint" "s3" { service_name = "com.amazonaws.us-east-1.s3" }"#, "aws_vpc_endpoint.s3", Expect::Free("gateway endpoints")),
        (r#"resource "aws_ssm_parameter" "p" { type = "String" }"#, "aws_ssm_parameter.p", Expect::Free("standard parameters")),
        (r#"resource "aws_eks_cluster" "k" {}"#, "aws_eks_cluster.k", Expect::Priced(73.0)),
        (r#"resource "aws_ecs_service" "s" { desired_count = 1 }"#, "aws_ecs_service.s", Expect::Unpriced("launch_type is not set")),
        (r#"resource "aws_ecs_service" "s" { launch_type = "EC2" }"#, "aws_ecs_service.s", Expect::Free("the cluster's own instances")),
    ];
    for (hcl, address, expect) in cases {
        let expect = match expect {
            Expect::Priced(m) => Expect::Priced(*m),
            Expect::Free(r) => Expect::Free(r),
            Expect::Unpriced(r) => Expect::Unpriced(r),
        };
        check(hcl, address, expect);
    }
}

#[test]
fn t3_micro_instance_hours() {
    let r = cost_of(T3_MICRO, "aws_instance.web", &Usage::default(), "us-east-1");
    let hours = &r.components[0];
    assert_eq!((hours.quantity, hours.unit.as_str(), hours.unit_price, hours.basis), (730.0, "hours", 0.0104, Basis::Config));
    assert!(close(hours.monthly, 7.592), "{hours:?}");
    assert!(r.notes.iter().any(|n| n.contains("8 GB gp2 assumed")), "{:?}", r.notes);
}

#[test]
fn count_and_for_each_multiply() {
    let hcl = r#"
resource "aws_instance" "web" {
  count         = 3
  instance_type = "t3.micro"
}
resource "aws_sqs_queue" "q" {
  for_each = toset(["a", "b"])
  name     = each.key
}
variable "n" {}
resource "aws_eip" "ip" {
  count = var.n
}
resource "aws_iam_role" "r" {
  count = var.n
}
data "aws_ami" "ubuntu" {
  most_recent = true
}
"#;
    let m = module(hcl);
    let e = estimate(&m, table(), &Usage::default(), "us-east-1");
    let by = |a: &str| e.resources.iter().find(|r| r.address == a).unwrap();
    let web = by("aws_instance.web");
    assert_eq!(web.count, Some(3));
    assert!(close(web.monthly, 3.0 * 8.392), "{web:?}");
    assert_eq!(web.components[0].quantity, 2190.0);
    assert_eq!(by("aws_sqs_queue.q").count, Some(2));
    assert!(close(by("aws_sqs_queue.q").monthly, 0.80));
    let ip = by("aws_eip.ip");
    assert_eq!((ip.status, ip.count), (CostStatus::Unpriced, None));
    assert_eq!(ip.reason.as_deref(), Some("count is not known until apply (`var.n`)"));
    assert_eq!(by("aws_iam_role.r").status, CostStatus::Free, "free whatever the count");
    assert!(e.resources.iter().all(|r| !r.address.starts_with("data.")), "data sources are not resources");
    assert_eq!(e.unpriced_count, 1);
    assert!(close(e.monthly_total, 3.0 * 8.392 + 0.80), "{}", e.monthly_total);
}

#[test]
fn region_factor_applies_except_to_global_services() {
    let hcl = format!("{T3_MICRO}\nresource \"aws_route53_zone\" \"z\" {{ name = \"example.com\" }}\n");
    let m = module(&hcl);
    let e = estimate(&m, table(), &Usage::default(), "eu-west-1");
    assert_eq!(e.region_factor, 1.1);
    assert!(close(e.resources[0].monthly, 8.392 * 1.1), "{:?}", e.resources[0]);
    assert!(close(e.resources[0].components[0].unit_price, 0.0104 * 1.1));
    assert!(close(e.resources[1].monthly, 0.90), "Route 53 is global");
    assert!(e.notes.iter().any(|n| n.contains("× 1.1 for eu-west-1")), "{:?}", e.notes);

    let e = estimate(&m, table(), &Usage::default(), "mars-north-1");
    assert_eq!(e.region_factor, 1.0);
    assert!(e.notes.iter().any(|n| n.contains("no factor for region \"mars-north-1\"")), "{:?}", e.notes);
}

#[test]
fn budget_thresholds() {
    let cases: &[(f64, Option<f64>, &str, Option<f64>)] = &[
        (79.0, Some(100.0), "PASS", Some(79.0)),
        (79.99, Some(100.0), "PASS", Some(80.0)),
        (80.0, Some(100.0), "WARN", Some(80.0)),
        (100.0, Some(100.0), "WARN", Some(100.0)),
        (101.0, Some(100.0), "FAIL", Some(101.0)),
        (400.0, Some(500.0), "WARN", Some(80.0)),
        (0.0, Some(0.0), "PASS", Some(0.0)),
        (1.0, Some(0.0), "FAIL", None),
        (1e6, None, "PASS", None),
    ];
    for (total, threshold, label, percent) in cases {
        let status = budget_check(*total, *threshold);
        assert_eq!(status.label(), *label, "{total} of {threshold:?}: {status:?}");
        let got = match &status {
            BudgetStatus::Pass { percent, .. } | BudgetStatus::Fail { percent } => *percent,
            BudgetStatus::Warn { percent } => Some(*percent),
        };
        assert_eq!(got, *percent, "{total} of {threshold:?}");
    }
    assert!(matches!(budget_check(5.0, None), BudgetStatus::Pass { note: Some(n), .. } if n.contains("no cost_threshold")));
    assert_eq!(serde_json::to_value(budget_check(101.0, Some(100.0))).unwrap(), serde_json::json!({"status": "FAIL", "percent": 101.0}));
}

const LAMBDA: &str = r#"
resource "aws_lambda_function" "api" {
  function_name = "api"
  memory_size   = 512
}
resource "aws_lambda_function" "worker" {
  function_name = "worker"
  memory_size   = 512
}
"#;

#[test]
fn usage_file_overrides_defaults() {
    let u = usage(
        r#"{"resource_usage": {"aws_lambda_function.api": {"monthly_requests": 5000000, "average_duration_ms": 120}}, "defaults": {"aws_lambda_function": {"monthly_requests": 0}}}"#,
    );
    let api = cost_of(LAMBDA, "aws_lambda_function.api", &u, "us-east-1");
    // 5M × 0.12 s × 0.5 GB = 300,000 GB-s.
    assert!(close(api.monthly, 1.00 + 300_000.0 * 0.0000166667), "{api:?}");
    assert!(api.components.iter().all(|c| c.basis == Basis::UsageFile), "{api:?}");
    let worker = cost_of(LAMBDA, "aws_lambda_function.worker", &u, "us-east-1");
    assert_eq!(worker.monthly, 0.0, "per-type default from the usage file");
    assert_eq!(worker.components[0].basis, Basis::UsageFile);
    assert_eq!(worker.components[1].basis, Basis::UsageDefault, "the duration still comes from the table");

    let e = estimate(&module(LAMBDA), table(), &usage(r#"{"resource_usage": {"aws_lambda_function.gone": {"monthly_requests": 1}}}"#), "us-east-1");
    assert!(e.notes.iter().any(|n| n == "the usage file's entry for aws_lambda_function.gone matches no resource here"), "{:?}", e.notes);

    // An address without an index covers each instance of a plan.
    let u = usage(r#"{"resource_usage": {"module.m.aws_sqs_queue.q": {"monthly_requests": 10000000}}}"#);
    assert_eq!(u.value("module.m.aws_sqs_queue.q[\"a.b\"]", "aws_sqs_queue", "monthly_requests", table()), Some((1e7, Basis::UsageFile)));
    assert_eq!(u.value("module.m.aws_sqs_queue.other", "aws_sqs_queue", "monthly_requests", table()), Some((1e6, Basis::UsageDefault)));
}

#[test]
fn bad_usage_files_name_the_json_path() {
    let cases: &[(&str, &str)] = &[
        (
            r#"{"resource_usage": {"aws_lambda_function.api": {"monthly_request": 5}}}"#,
            r#"resource_usage["aws_lambda_function.api"].monthly_request: unknown usage key for aws_lambda_function (accepted: average_duration_ms, monthly_requests)"#,
        ),
        (
            r#"{"resource_usage": {"aws_lambda_function.api": {"monthly_requests": "lots"}}}"#,
            r#"resource_usage["aws_lambda_function.api"].monthly_requests: invalid type: string "lots", expected f64"#,
        ),
        (r#"{"defaults": {"aws_s3_bucket": {"storage_gb": -1}}}"#, "defaults.aws_s3_bucket.storage_gb: must be a number, 0 or more"),
        (r#"{"defaults": {"aws_instance": {"monthly_hours": 100}}}"#, "defaults.aws_instance: aws_instance takes no usage keys"),
        (r#"{"resource_usage": {"not an address": {}}}"#, r#"resource_usage["not an address"]: not a resource address"#),
        (r#"{"resource_usages": {}}"#, "resource_usages: unknown field `resource_usages`, expected `resource_usage` or `defaults`"),
        (r#"{"defaults": [1]}"#, "defaults: invalid type: sequence"),
    ];
    for (json, expected) in cases {
        let err = Usage::from_json(json, "usage.json", table()).unwrap_err().to_string();
        assert!(err.starts_with("usage file usage.json: "), "{err}");
        assert!(err.contains(expected), "expected {expected:?} in\n{err}");
    }
    let err = Usage::from_json(r#"{"resource_usages": {}}"#, "u.json", table()).unwrap_err();
    assert!(matches!(&err, UsageError::Invalid { accepted: Some(a), .. } if a == "resource_usage, defaults"), "{err:?}");
    let as_error: crate::error::Error = err.into();
    assert_eq!(as_error.exit_code(), 2);
}

#[test]
fn usage_file_is_read_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("usage.json");
    std::fs::write(&path, r#"{"defaults": {"aws_s3_bucket": {"storage_gb": 1000}}}"#).unwrap();
    let u = Usage::load(&path, table()).unwrap();
    assert_eq!(u.defaults["aws_s3_bucket"]["storage_gb"], 1000.0);
    let err = Usage::load(&dir.path().join("missing.json"), table()).unwrap_err();
    assert!(matches!(err, UsageError::Io { .. }) && err.to_string().contains("missing.json"), "{err}");
}

#[test]
fn fargate_service_follows_its_task_definition() {
    let hcl = r#"
resource "aws_ecs_task_definition" "app" {
  family                   = "app"
  cpu                      = "256"
  memory                   = "512"
  requires_compatibilities = ["FARGATE"]
}
resource "aws_ecs_service" "app" {
  launch_type     = "FARGATE"
  task_definition = aws_ecs_task_definition.app.arn
  desired_count   = 2
}
"#;
    check(hcl, "aws_ecs_service.app", Expect::Priced(0.25 * 2.0 * 730.0 * 0.04048 + 0.5 * 2.0 * 730.0 * 0.004445));
    check(hcl, "aws_ecs_task_definition.app", Expect::Free("container configuration"));
    let by_family = hcl.replace("aws_ecs_task_definition.app.arn", "\"app:3\"");
    check(&by_family, "aws_ecs_service.app", Expect::Priced(18.02));
}

#[test]
fn autoscaling_group_prices_its_instances() {
    let hcl = r#"
resource "aws_launch_template" "lt" {
  instance_type = "t3.small"
  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size = 10
      volume_type = "gp3"
    }
  }
}
resource "aws_autoscaling_group" "asg" {
  min_size         = 1
  max_size         = 4
  desired_capacity = 2
  launch_template {
    id = aws_launch_template.lt.id
  }
}
"#;
    check(hcl, "aws_autoscaling_group.asg", Expect::Priced(2.0 * (730.0 * 0.0208 + 0.8)));
}

#[test]
fn cost_impact_before_and_after() {
    let before = module(T3_MICRO);
    let after = module(&format!("{}\n{}", T3_MICRO.replace("t3.micro", "t3.small"), r#"resource "aws_lambda_function" "api" {}"#));
    let impact = cost_impact(&before, &after, table(), &Usage::default(), "us-east-1");
    assert!(close(impact.before, 8.39) && close(impact.after, 15.984 + 0.62), "{impact:?}");
    assert!(close(impact.delta, impact.after - impact.before));
    let addresses: Vec<_> = impact.changes.iter().map(|c| (c.address.as_str(), c.before.is_some(), c.after.is_some())).collect();
    assert_eq!(addresses, [("aws_instance.web", true, true), ("aws_lambda_function.api", false, true)]);
    assert!(impact.summary().starts_with("+$8.21/month ($8.39 → $16.60)"), "{}", impact.summary());

    let same = cost_impact(&before, &before, table(), &Usage::default(), "us-east-1");
    assert!(same.changes.is_empty() && same.delta == 0.0);
}

#[test]
fn price_one_resource_alone() {
    let m = module(
        r#"resource "aws_db_instance" "db" {
             engine            = "postgres"
             instance_class    = "db.t4g.micro"
             allocated_storage = 20
           }"#,
    );
    let r = price_resource(&m.resources[0], &m, table(), &Usage::default(), "us-east-1");
    assert!(close(r.monthly, 730.0 * 0.016 + 20.0 * 0.115), "{r:?}");
}

#[test]
fn estimate_serialises_with_stable_field_names() {
    let m = module(&format!("{T3_MICRO}\nresource \"aws_neptune_cluster\" \"g\" {{}}\nresource \"aws_iam_role\" \"r\" {{}}\n"));
    let e = estimate(&m, table(), &Usage::default(), "us-east-1");
    let json = serde_json::to_value(&e).unwrap();
    for key in [
        "currency",
        "region",
        "region_factor",
        "table_date",
        "table_source",
        "monthly_total",
        "priced_count",
        "free_count",
        "unpriced_count",
        "resources",
        "notes",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
    assert_eq!(json["resources"][0]["components"][0]["basis"], "config");
    assert_eq!(json["resources"][1]["status"], "unpriced");
    assert_eq!(json["resources"][2]["status"], "free");
    assert_eq!((e.priced_count, e.free_count, e.unpriced_count), (1, 1, 1));
    assert!(e.summary().starts_with("$8.39/month in us-east-1 (prices of 2025-01); 1 priced, 1 free, 1 unpriced"), "{}", e.summary());
    let back: CostEstimate = serde_json::from_value(json).unwrap();
    assert_eq!(back, e);
}

fn fixtures() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/terraform/plans");
    assert!(dir.is_dir(), "the shared fixtures are missing at {} (they sit beside the project as ../shared)", dir.display());
    dir
}

fn plan(name: &str) -> CostEstimate {
    let m = tf::load_plan(&fixtures().join(name)).unwrap_or_else(|e| panic!("{e}"));
    estimate(&m, table(), &Usage::default(), "us-east-1")
}

#[test]
fn plan_with_ec2_and_lambda() {
    let e = plan("02-small-ec2-lambda-create.tf1.0.2.json");
    let web = &e.resources[0];
    assert_eq!(web.address, "aws_instance.web_app");
    let parts: Vec<(&str, f64)> = web.components.iter().map(|c| (c.name.as_str(), c.monthly)).collect();
    assert_eq!(
        parts,
        [
            ("Instance usage (Linux/UNIX, on-demand, m5.4xlarge)", 560.64),
            ("Root volume storage (gp2)", 5.0),
            ("EBS volume my_data storage (io1)", 125.0),
            ("EBS volume my_data provisioned IOPS (io1)", 52.0),
        ]
    );
    assert!(web.notes.iter().any(|n| n.contains("Root volume: volume_type is not set")), "{:?}", web.notes);
    let lambda = &e.resources[1];
    // 1M × 0.2 s × 1 GB = 200,000 GB-s.
    assert!(close(lambda.monthly, 0.20 + 200_000.0 * 0.0000166667), "{lambda:?}");
    assert_eq!(e.unpriced_count, 0);
    assert!(close(e.monthly_total, 742.64 + 3.53), "{}", e.monthly_total);
}

#[test]
fn plan_with_many_kinds_lists_what_it_cannot_price() {
    let e = plan("10-medium-terragoat-55res-rds-s3-iam-lambda-kms.tf0.12.23.json");
    let unpriced: Vec<&str> = e.resources.iter().filter(|r| r.status == CostStatus::Unpriced).map(|r| r.kind.as_str()).collect();
    assert_eq!(
        unpriced,
        ["aws_elasticsearch_domain", "aws_neptune_cluster", "aws_neptune_cluster_instance", "aws_neptune_cluster_snapshot"],
        "{:#?}",
        e.resources
    );
    let db = e.resources.iter().find(|r| r.address == "aws_db_instance.default").unwrap();
    assert!(close(db.monthly, 12.41 + 2.30), "{db:?}");
    assert!(e.resources.iter().filter(|r| r.kind.starts_with("aws_iam_")).all(|r| r.status == CostStatus::Free));
    assert_eq!(e.resources.iter().find(|r| r.kind == "null_resource").unwrap().status, CostStatus::Free);
    assert!(e.resources.iter().all(|r| r.status != CostStatus::Unpriced || r.reason.is_some()));
}

#[test]
fn plan_instances_expanded_by_count_and_for_each_price_one_each() {
    let e = plan("11-medium-ec2-rds-modules-26res-prior-state.tf0.14.11.json");
    let instances: Vec<&ResourceCost> = e.resources.iter().filter(|r| r.kind == "aws_instance").collect();
    assert_eq!(instances.len(), 12);
    assert!(instances.iter().all(|r| r.count == Some(1) && r.components[0].unit_price == 0.0052), "{instances:#?}");
    let e = plan("13-for-each-sg-route53-applyable-complete.tf1.9.5.json");
    let zones: Vec<f64> = e.resources.iter().filter(|r| r.kind == "aws_route53_zone").map(|r| r.monthly).collect();
    assert_eq!(zones, [0.9, 0.9]);
    assert_eq!(e.unpriced_count, 0);
}

#[test]
fn every_recorded_plan_prices_without_panicking() {
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let m = tf::load_plan(&path).unwrap();
        let e = estimate(&m, table(), &Usage::default(), "eu-central-1");
        assert!(e.monthly_total.is_finite() && e.monthly_total >= 0.0, "{}", path.display());
        assert_eq!(e.priced_count + e.free_count + e.unpriced_count, e.resources.len());
    }
}

/// The resource table says which types are priced; the price rules agree, both ways for the types it knows.
#[test]
fn the_resource_table_and_the_price_rules_agree() {
    for t in crate::vocabulary::resource::TYPES {
        let priced = super::price::priced_types().any(|k| k == t.tf_type);
        assert_eq!(t.priced, priced, "{}: the resource table says priced = {}, the price rules say {priced}", t.tf_type, t.priced);
    }
}
