//! The price table: `data/prices/aws-us-east-1.json`, embedded in the binary.
//!
//! Every section is a typed struct that refuses unknown fields, so a typo in
//! the JSON fails the table's own test instead of pricing something at $0.
//! The pricing rules (which attribute selects which price) live in
//! `price.rs`; this file only holds the numbers and what they mean.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

const EMBEDDED: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/prices/aws-us-east-1.json"));

static TABLE: LazyLock<PriceTable> = LazyLock::new(|| PriceTable::from_json(EMBEDDED).unwrap_or_else(|e| panic!("the embedded price table is broken: {e}")));

/// Prices for us-east-1 on-demand, with region factors, free types and
/// default usage. Load it with [`PriceTable::embedded`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceTable {
    pub meta: TableMeta,
    pub region_factors_note: String,
    /// Multipliers relative to us-east-1.
    pub region_factors: BTreeMap<String, f64>,
    /// Types priced the same everywhere (no region factor).
    pub global_types: Vec<String>,
    /// Types that cost nothing by themselves, grouped by why.
    pub free: Vec<FreeGroup>,
    /// Usage keys per type with their default values.
    pub usage: BTreeMap<String, BTreeMap<String, UsageKey>>,
    pub prices: Prices,
}

/// Where the numbers come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableMeta {
    pub currency: String,
    pub region: String,
    /// When the numbers were taken (`2025-01`).
    pub table_date: String,
    pub source: String,
    pub provenance: String,
    pub free_tiers: String,
    pub not_included: String,
    pub hours_per_month: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreeGroup {
    pub reason: String,
    /// Exact type names, or prefixes ending in `*` (`aws_iam_*`).
    pub types: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageKey {
    pub default: f64,
    pub description: String,
}

/// One step of a tiered price; `up_to` is cumulative, in the price's unit,
/// and absent on the last step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    #[serde(default)]
    pub up_to: Option<f64>,
    pub price: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prices {
    pub ec2: Ec2,
    pub ebs: Ebs,
    pub rds: Rds,
    pub aurora: Aurora,
    pub lambda: Lambda,
    pub s3: S3,
    pub dynamodb: Dynamodb,
    pub nat_gateway: PerHourAndGb,
    pub lb: LoadBalancers,
    pub elb: PerHourAndGb,
    pub cloudwatch: Cloudwatch,
    pub sqs: Sqs,
    pub sns: Sns,
    pub apigateway: ApiGateway,
    pub cloudfront: Cloudfront,
    pub kms: Kms,
    pub secretsmanager: SecretsManager,
    pub elasticache: Elasticache,
    pub fargate: Fargate,
    pub cognito: Cognito,
    pub eip: Hourly,
    pub route53: Route53,
    pub eks: Eks,
    pub vpc_endpoint: VpcEndpoint,
    pub ecr: Ecr,
    pub efs: Efs,
    pub ssm: Ssm,
    pub sfn: Sfn,
    pub wafv2: Wafv2,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ec2 {
    /// Linux/UNIX, shared tenancy, by instance type.
    pub hourly: BTreeMap<String, f64>,
    pub public_ipv4_hourly: f64,
    pub default_root_volume_gb: f64,
    pub default_volume_type: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ebs {
    pub gb_month: BTreeMap<String, f64>,
    pub io1_iops_month: f64,
    pub io2_iops_month: Vec<Tier>,
    pub gp3_iops_month: f64,
    pub gp3_free_iops: f64,
    pub gp3_throughput_mbps_month: f64,
    pub gp3_free_throughput_mbps: f64,
    pub snapshot_gb_month: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rds {
    /// Engine name → the price list it uses (`mariadb` → `mysql`).
    pub engines: BTreeMap<String, String>,
    /// Price list → instance class → single-AZ $/hour.
    pub hourly: BTreeMap<String, BTreeMap<String, f64>>,
    pub storage_gb_month: BTreeMap<String, f64>,
    /// io1/io2 provisioned IOPS, $/IOPS-month (single-AZ).
    pub provisioned_iops_month: f64,
    pub gp3_iops_month: f64,
    pub gp3_throughput_mbps_month: f64,
    pub gp3_baseline_small: Gp3Baseline,
    pub gp3_baseline_large: Gp3Baseline,
    pub multi_az_factor: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gp3Baseline {
    /// The baseline applies below this size; absent on the last baseline.
    #[serde(default)]
    pub below_gb: Option<f64>,
    pub iops: f64,
    pub throughput_mbps: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Aurora {
    pub engines: Vec<String>,
    pub hourly: BTreeMap<String, f64>,
    pub serverless_v2_acu_hour: f64,
    pub storage_gb_month: f64,
    pub io_optimized_storage_gb_month: f64,
    pub io_per_million: f64,
    pub io_optimized_instance_factor: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lambda {
    pub requests_per_million: f64,
    pub gb_second_x86_64: Vec<Tier>,
    pub gb_second_arm64: Vec<Tier>,
    pub ephemeral_gb_second: f64,
    pub default_memory_mb: f64,
    pub free_ephemeral_mb: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3 {
    pub storage_gb_month: Vec<Tier>,
    pub put_per_1000: f64,
    pub get_per_1000: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dynamodb {
    pub write_request_per_million: f64,
    pub read_request_per_million: f64,
    pub wcu_hour: f64,
    pub rcu_hour: f64,
    pub storage_gb_month: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerHourAndGb {
    pub hourly: f64,
    pub per_gb: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hourly {
    pub hourly: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadBalancers {
    pub application: LoadBalancer,
    pub network: LoadBalancer,
    pub gateway: LoadBalancer,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadBalancer {
    pub hourly: f64,
    pub capacity_unit_hour: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cloudwatch {
    /// By log group class.
    pub log_ingestion_gb: BTreeMap<String, f64>,
    pub log_storage_gb_month: f64,
    pub alarm_standard: f64,
    pub alarm_high_resolution: f64,
    pub composite_alarm: f64,
    pub dashboard: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sqs {
    pub standard_per_million: Vec<Tier>,
    pub fifo_per_million: Vec<Tier>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sns {
    pub publish_per_million: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiGateway {
    pub rest_per_million: Vec<Tier>,
    pub http_per_million: Vec<Tier>,
    pub websocket_messages_per_million: Vec<Tier>,
    pub websocket_connection_minutes_per_million: f64,
    /// Cache size in GB (as the provider writes it) → $/hour.
    pub cache_hourly: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cloudfront {
    pub transfer_gb: Vec<Tier>,
    pub https_per_10k: f64,
    pub http_per_10k: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kms {
    pub key_month: f64,
    pub symmetric_per_10k: f64,
    pub asymmetric_per_10k: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsManager {
    pub secret_month: f64,
    pub api_per_10k: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Elasticache {
    pub hourly: BTreeMap<String, f64>,
    pub valkey_factor: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fargate {
    pub vcpu_hour_x86_64: f64,
    pub gb_hour_x86_64: f64,
    pub vcpu_hour_arm64: f64,
    pub gb_hour_arm64: f64,
    pub ephemeral_gb_hour: f64,
    pub free_ephemeral_gb: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cognito {
    /// User pool tier (`LITE`, `ESSENTIALS`, `PLUS`) → $/MAU tiers.
    pub per_mau: BTreeMap<String, Vec<Tier>>,
    pub default_tier: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route53 {
    pub zone_month: f64,
    pub queries_per_million: Vec<Tier>,
    pub health_check_basic: f64,
    pub health_check_feature: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Eks {
    pub cluster_hour: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VpcEndpoint {
    pub interface_az_hour: f64,
    pub per_gb: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ecr {
    pub storage_gb_month: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Efs {
    pub standard_gb_month: f64,
    pub one_zone_gb_month: f64,
    pub provisioned_mibps_month: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ssm {
    pub advanced_parameter_month: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sfn {
    pub standard_per_1000_transitions: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wafv2 {
    pub web_acl_month: f64,
    pub rule_month: f64,
    pub requests_per_million: f64,
}

impl PriceTable {
    /// The table shipped in the binary.
    pub fn embedded() -> &'static PriceTable {
        &TABLE
    }

    /// Parses and checks a table (tiers ascending and ending open, factors
    /// and prices positive); the message names the JSON path.
    pub fn from_json(text: &str) -> Result<PriceTable, String> {
        let mut de = serde_json::Deserializer::from_str(text);
        let table: PriceTable = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            format!("{path}: {}", e.into_inner())
        })?;
        table.check()?;
        Ok(table)
    }

    /// The multiplier for `region`, when the table knows it.
    pub fn region_factor(&self, region: &str) -> Option<f64> {
        self.region_factors.get(region).copied()
    }

    pub fn is_global(&self, kind: &str) -> bool {
        self.global_types.iter().any(|t| t == kind)
    }

    /// Why `kind` costs nothing by itself, when the table says it does not.
    pub fn free_reason(&self, kind: &str) -> Option<&str> {
        self.free
            .iter()
            .find(|g| {
                g.types.iter().any(|t| match t.strip_suffix('*') {
                    Some(prefix) => kind.starts_with(prefix),
                    None => t == kind,
                })
            })
            .map(|g| g.reason.as_str())
    }

    /// The usage keys `kind` takes (empty when its cost comes from its configuration alone).
    pub fn usage_keys(&self, kind: &str) -> Option<&BTreeMap<String, UsageKey>> {
        self.usage.get(usage_kind(kind))
    }

    fn check(&self) -> Result<(), String> {
        let tiers: [(&str, &[Tier]); 11] = [
            ("prices.ebs.io2_iops_month", &self.prices.ebs.io2_iops_month),
            ("prices.lambda.gb_second_x86_64", &self.prices.lambda.gb_second_x86_64),
            ("prices.lambda.gb_second_arm64", &self.prices.lambda.gb_second_arm64),
            ("prices.s3.storage_gb_month", &self.prices.s3.storage_gb_month),
            ("prices.sqs.standard_per_million", &self.prices.sqs.standard_per_million),
            ("prices.sqs.fifo_per_million", &self.prices.sqs.fifo_per_million),
            ("prices.apigateway.rest_per_million", &self.prices.apigateway.rest_per_million),
            ("prices.apigateway.http_per_million", &self.prices.apigateway.http_per_million),
            ("prices.apigateway.websocket_messages_per_million", &self.prices.apigateway.websocket_messages_per_million),
            ("prices.cloudfront.transfer_gb", &self.prices.cloudfront.transfer_gb),
            ("prices.route53.queries_per_million", &self.prices.route53.queries_per_million),
        ];
        for (path, list) in tiers {
            check_tiers(path, list)?;
        }
        for (tier, list) in &self.prices.cognito.per_mau {
            check_tiers(&format!("prices.cognito.per_mau.{tier}"), list)?;
        }
        if !self.prices.cognito.per_mau.contains_key(&self.prices.cognito.default_tier) {
            return Err("prices.cognito.default_tier: not a key of prices.cognito.per_mau".into());
        }
        for (region, factor) in &self.region_factors {
            if !(factor.is_finite() && *factor > 0.0) {
                return Err(format!("region_factors.{region}: must be a positive number"));
            }
        }
        for (family, classes) in &self.prices.rds.hourly {
            if !self.prices.rds.engines.values().any(|f| f == family) {
                return Err(format!("prices.rds.hourly.{family}: no engine in prices.rds.engines uses it"));
            }
            for (class, price) in classes {
                positive(&format!("prices.rds.hourly.{family}.{class}"), *price)?;
            }
        }
        for (kind, keys) in &self.usage {
            for (key, usage) in keys {
                if !(usage.default.is_finite() && usage.default >= 0.0) {
                    return Err(format!("usage.{kind}.{key}.default: must be a number, 0 or more"));
                }
            }
        }
        for (name, price) in &self.prices.ec2.hourly {
            positive(&format!("prices.ec2.hourly.{name}"), *price)?;
        }
        if self.meta.hours_per_month <= 0.0 {
            return Err("meta.hours_per_month: must be positive".into());
        }
        Ok(())
    }
}

/// Types that share another type's pricing and usage keys.
pub(super) fn usage_kind(kind: &str) -> &str {
    match kind {
        "aws_alb" => "aws_lb",
        "aws_kms_replica_key" => "aws_kms_key",
        other => other,
    }
}

fn positive(path: &str, price: f64) -> Result<(), String> {
    if price.is_finite() && price > 0.0 { Ok(()) } else { Err(format!("{path}: must be a positive price")) }
}

fn check_tiers(path: &str, tiers: &[Tier]) -> Result<(), String> {
    let Some((last, rest)) = tiers.split_last() else { return Err(format!("{path}: no tiers")) };
    if last.up_to.is_some() {
        return Err(format!("{path}: the last tier must have no up_to"));
    }
    let mut previous = 0.0;
    for (i, tier) in rest.iter().enumerate() {
        match tier.up_to {
            Some(up_to) if up_to > previous => previous = up_to,
            _ => return Err(format!("{path}[{i}].up_to: must be present and larger than the tier before")),
        }
    }
    for (i, tier) in tiers.iter().enumerate() {
        positive(&format!("{path}[{i}].price"), tier.price)?;
    }
    Ok(())
}

/// What `quantity` costs across `tiers` (quantity in the tiers' unit).
pub(super) fn tiered(quantity: f64, tiers: &[Tier]) -> f64 {
    let mut left = quantity.max(0.0);
    let mut lower = 0.0;
    let mut cost = 0.0;
    for tier in tiers {
        let room = tier.up_to.map_or(f64::INFINITY, |u| u - lower);
        let here = left.min(room);
        cost += here * tier.price;
        left -= here;
        if let Some(u) = tier.up_to {
            lower = u;
        }
        if left <= 0.0 {
            break;
        }
    }
    cost
}
