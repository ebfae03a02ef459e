//! Pricing rules: which attributes and usage keys of a resource select which
//! prices of the table. One function per resource type; [`pricer`] is the
//! whole list.
//!
//! A rule returns its components in us-east-1 prices for one instance of the
//! resource; the caller multiplies by `count` and the region factor. A rule
//! never guesses a value it cannot know: it stops with the reason, and the
//! resource is reported as unpriced.

use std::collections::BTreeMap;

use crate::tf::{Module, Resource, Val};

use super::Basis;
use super::table::{PriceTable, Tier, tiered};
use super::usage::Usage;

/// What pricing one resource gave.
pub(super) enum Outcome {
    Priced(Bill),
    Free(String),
    Unpriced(String),
}

/// Components and notes of one priced resource.
#[derive(Default)]
pub(super) struct Bill {
    pub parts: Vec<Part>,
    pub notes: Vec<String>,
}

pub(super) struct Part {
    pub name: String,
    pub quantity: f64,
    pub unit: String,
    pub unit_price: f64,
    pub basis: Basis,
}

/// Why a rule stopped: the resource is free after all, or cannot be priced.
enum Stop {
    Free(String),
    Unpriced(String),
}

impl From<String> for Stop {
    fn from(reason: String) -> Self {
        Stop::Unpriced(reason)
    }
}

impl From<&str> for Stop {
    fn from(reason: &str) -> Self {
        Stop::Unpriced(reason.to_string())
    }
}

type Rule = fn(&Ctx<'_>, &mut Bill) -> Result<(), Stop>;

struct Ctx<'a> {
    r: &'a Resource,
    module: &'a Module,
    table: &'a PriceTable,
    usage: &'a Usage,
}

/// Prices one resource (one instance of it).
pub(super) fn price(r: &Resource, module: &Module, table: &PriceTable, usage: &Usage) -> Outcome {
    if r.data {
        return Outcome::Free("a data source reads; it creates nothing".into());
    }
    let Some(rule) = pricer(&r.kind) else {
        return match table.free_reason(&r.kind) {
            Some(reason) => Outcome::Free(reason.to_string()),
            None => Outcome::Unpriced(format!("{} is not in the price table", r.kind)),
        };
    };
    let ctx = Ctx { r, module, table, usage };
    let mut bill = Bill::default();
    match rule(&ctx, &mut bill) {
        Ok(()) => Outcome::Priced(bill),
        Err(Stop::Free(reason)) => Outcome::Free(reason),
        Err(Stop::Unpriced(reason)) => Outcome::Unpriced(reason),
    }
}

/// Every priced type and its rule: the whole routing table.
const RULES: &[(&str, Rule)] = &[
    ("aws_instance", aws_instance),
    ("aws_autoscaling_group", aws_autoscaling_group),
    ("aws_ebs_volume", aws_ebs_volume),
    ("aws_ebs_snapshot", aws_ebs_snapshot),
    ("aws_eip", aws_eip),
    ("aws_db_instance", aws_db_instance),
    ("aws_rds_cluster", aws_rds_cluster),
    ("aws_rds_cluster_instance", aws_rds_cluster_instance),
    ("aws_lambda_function", aws_lambda_function),
    ("aws_s3_bucket", aws_s3_bucket),
    ("aws_dynamodb_table", aws_dynamodb_table),
    ("aws_nat_gateway", aws_nat_gateway),
    ("aws_lb", aws_lb),
    ("aws_alb", aws_lb),
    ("aws_elb", aws_elb),
    ("aws_cloudwatch_log_group", aws_cloudwatch_log_group),
    ("aws_cloudwatch_metric_alarm", aws_cloudwatch_metric_alarm),
    ("aws_cloudwatch_composite_alarm", aws_cloudwatch_composite_alarm),
    ("aws_cloudwatch_dashboard", aws_cloudwatch_dashboard),
    ("aws_sqs_queue", aws_sqs_queue),
    ("aws_sns_topic", aws_sns_topic),
    ("aws_apigatewayv2_api", aws_apigatewayv2_api),
    ("aws_api_gateway_rest_api", aws_api_gateway_rest_api),
    ("aws_api_gateway_stage", aws_api_gateway_stage),
    ("aws_cloudfront_distribution", aws_cloudfront_distribution),
    ("aws_kms_key", aws_kms_key),
    ("aws_kms_replica_key", aws_kms_key),
    ("aws_secretsmanager_secret", aws_secretsmanager_secret),
    ("aws_elasticache_cluster", aws_elasticache_cluster),
    ("aws_elasticache_replication_group", aws_elasticache_replication_group),
    ("aws_ecs_service", aws_ecs_service),
    ("aws_cognito_user_pool", aws_cognito_user_pool),
    ("aws_route53_zone", aws_route53_zone),
    ("aws_route53_health_check", aws_route53_health_check),
    ("aws_eks_cluster", aws_eks_cluster),
    ("aws_vpc_endpoint", aws_vpc_endpoint),
    ("aws_ecr_repository", aws_ecr_repository),
    ("aws_efs_file_system", aws_efs_file_system),
    ("aws_ssm_parameter", aws_ssm_parameter),
    ("aws_sfn_state_machine", aws_sfn_state_machine),
    ("aws_wafv2_web_acl", aws_wafv2_web_acl),
];

fn pricer(kind: &str) -> Option<Rule> {
    RULES.iter().find(|(k, _)| *k == kind).map(|(_, rule)| *rule)
}

/// Every type the rules price, in table order.
pub(super) fn priced_types() -> impl Iterator<Item = &'static str> {
    RULES.iter().map(|(kind, _)| *kind)
}

// ---------------------------------------------------------------- helpers

impl Bill {
    fn add(&mut self, name: impl Into<String>, quantity: f64, unit: &str, unit_price: f64, basis: Basis) {
        self.parts.push(Part { name: name.into(), quantity, unit: unit.to_string(), unit_price, basis });
    }

    /// A tiered price as one component at its effective unit price.
    fn add_tiered(&mut self, name: impl Into<String>, quantity: f64, unit: &str, tiers: &[Tier], basis: Basis) {
        let unit_price = if quantity > 0.0 { tiered(quantity, tiers) / quantity } else { tiers[0].price };
        self.add(name, quantity, unit, unit_price, basis);
    }

    fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// Appends `other` with every quantity multiplied by `times`.
    fn extend_scaled(&mut self, other: Bill, times: f64) {
        for mut part in other.parts {
            part.quantity *= times;
            self.parts.push(part);
        }
        self.notes.extend(other.notes);
    }
}

/// The weaker of two bases: an assumption taints what it is combined with.
fn both(a: Basis, b: Basis) -> Basis {
    match (a, b) {
        (Basis::UsageDefault, _) | (_, Basis::UsageDefault) => Basis::UsageDefault,
        (Basis::UsageFile, _) | (_, Basis::UsageFile) => Basis::UsageFile,
        _ => Basis::Config,
    }
}

fn not_known(what: &str, v: &Val) -> String {
    match v {
        Val::Ref(address) => format!("{what} comes from {address}, known only after apply"),
        Val::Unknown(source) => format!("{what} is not known until apply (`{source}`)"),
        _ => format!("{what} has an unexpected value ({})", v.to_json()),
    }
}

/// A string attribute of a map: absent or null → `None`; unknown → the reason.
fn str_in(map: &BTreeMap<String, Val>, key: &str) -> Result<Option<String>, String> {
    match map.get(key) {
        None | Some(Val::Null) => Ok(None),
        Some(Val::Str(s)) => Ok(Some(s.clone())),
        Some(Val::Num(n)) => Ok(Some(if n.fract() == 0.0 { format!("{}", *n as i64) } else { n.to_string() })),
        Some(Val::Bool(b)) => Ok(Some(b.to_string())),
        Some(other) => Err(not_known(key, other)),
    }
}

fn num_in(map: &BTreeMap<String, Val>, key: &str) -> Result<Option<f64>, String> {
    match map.get(key) {
        None | Some(Val::Null) => Ok(None),
        Some(v @ (Val::Num(_) | Val::Str(_))) => v.as_num().map(Some).ok_or_else(|| format!("{key} is not a number ({})", v.to_json())),
        Some(other) => Err(not_known(key, other)),
    }
}

fn bool_in(map: &BTreeMap<String, Val>, key: &str) -> Result<Option<bool>, String> {
    match map.get(key) {
        None | Some(Val::Null) => Ok(None),
        Some(v @ (Val::Bool(_) | Val::Str(_))) => v.as_bool().map(Some).ok_or_else(|| format!("{key} is not true or false ({})", v.to_json())),
        Some(other) => Err(not_known(key, other)),
    }
}

fn blocks<'a>(map: &'a BTreeMap<String, Val>, key: &str) -> Vec<&'a BTreeMap<String, Val>> {
    map.get(key).map(Val::blocks).unwrap_or_default()
}

impl<'a> Ctx<'a> {
    fn s(&self, key: &str) -> Result<Option<String>, String> {
        str_in(&self.r.attrs, key)
    }

    fn n(&self, key: &str) -> Result<Option<f64>, String> {
        num_in(&self.r.attrs, key)
    }

    fn b(&self, key: &str) -> Result<Option<bool>, String> {
        bool_in(&self.r.attrs, key)
    }

    fn blocks(&self, key: &str) -> Vec<&'a BTreeMap<String, Val>> {
        blocks(&self.r.attrs, key)
    }

    fn required_s(&self, key: &str) -> Result<String, String> {
        self.s(key)?.ok_or_else(|| format!("{key} is not set (or known only after apply)"))
    }

    fn required_n(&self, key: &str) -> Result<f64, String> {
        self.n(key)?.ok_or_else(|| format!("{key} is not set (or known only after apply)"))
    }

    /// A usage value: the usage file's, or the table's default.
    fn usage(&self, key: &str) -> Result<(f64, Basis), String> {
        self.usage.value(&self.r.address, &self.r.kind, key, self.table).ok_or_else(|| format!("the price table has no usage key {key} for {}", self.r.kind))
    }

    fn hours(&self) -> f64 {
        self.table.meta.hours_per_month
    }

    /// The resource an attribute points at: by reference (HCL), or by a
    /// name-like attribute of `kind` equal to the value (plan JSON).
    fn follow(&self, value: Option<&Val>, what: &str, kind: &'a str, name_keys: &[&str]) -> Result<&'a Resource, String> {
        match value {
            Some(Val::Ref(address)) => self.module.by_address(address).ok_or_else(|| format!("{what} refers to {address}, which is not in this configuration")),
            Some(Val::Str(s)) => self
                .module
                .of_kind(kind)
                .find(|r| name_keys.iter().any(|k| r.get(k).and_then(Val::as_str) == Some(s.as_str())))
                .ok_or_else(|| format!("{what} {s} is not a {kind} in this configuration")),
            None | Some(Val::Null) => Err(format!("{what} is not set (or known only after apply)")),
            Some(other) => Err(not_known(what, other)),
        }
    }
}

fn lookup(map: &BTreeMap<String, f64>, key: &str, what: &str) -> Result<f64, String> {
    map.get(key).copied().ok_or_else(|| format!("{what} {key} is not in the price table"))
}

// ---------------------------------------------------------------- compute

fn aws_instance(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    if let Some(tenancy) = c.s("tenancy")?
        && tenancy != "default"
    {
        return Err(format!("tenancy {tenancy} is not in the price table (shared tenancy only)").into());
    }
    let Some(instance_type) = c.s("instance_type")? else {
        let why =
            if c.r.get("launch_template").is_some() { " (it comes from the launch template, which is not followed)" } else { " (or known only after apply)" };
        return Err(format!("instance_type is not set{why}").into());
    };
    instance_hours(c, bill, &instance_type)?;
    if c.b("associate_public_ip_address")? == Some(true) {
        bill.add("Public IPv4 address", c.hours(), "hours", c.table.prices.ec2.public_ipv4_hourly, Basis::Config);
    }
    instance_volumes(c, bill, &c.r.attrs)?;
    Ok(())
}

fn instance_hours(c: &Ctx<'_>, bill: &mut Bill, instance_type: &str) -> Result<(), String> {
    let hourly = lookup(&c.table.prices.ec2.hourly, instance_type, "instance type")?;
    bill.add(format!("Instance usage (Linux/UNIX, on-demand, {instance_type})"), c.hours(), "hours", hourly, Basis::Config);
    Ok(())
}

/// `root_block_device` and `ebs_block_device` of an instance or launch configuration.
fn instance_volumes(c: &Ctx<'_>, bill: &mut Bill, attrs: &BTreeMap<String, Val>) -> Result<(), String> {
    let ec2 = &c.table.prices.ec2;
    match blocks(attrs, "root_block_device").first() {
        Some(root) => volume_block(c, bill, "Root volume", root, true)?,
        None => {
            let (size, kind) = (ec2.default_root_volume_gb, ec2.default_volume_type.as_str());
            ebs_parts(c, bill, "Root volume", kind, size, None, None)?;
            bill.note(format!("root_block_device is not set: {size} GB {kind} assumed (the real size comes from the AMI)"));
        }
    }
    for block in blocks(attrs, "ebs_block_device") {
        let device = str_in(block, "device_name")?.unwrap_or_else(|| "?".into());
        volume_block(c, bill, &format!("EBS volume {device}"), block, false)?;
    }
    Ok(())
}

fn volume_block(c: &Ctx<'_>, bill: &mut Bill, label: &str, block: &BTreeMap<String, Val>, root: bool) -> Result<(), String> {
    let ec2 = &c.table.prices.ec2;
    let kind = match str_in(block, "volume_type")? {
        Some(kind) => kind,
        None => {
            bill.note(format!("{label}: volume_type is not set (or known only after apply): {} assumed", ec2.default_volume_type));
            ec2.default_volume_type.clone()
        }
    };
    let size = match num_in(block, "volume_size")? {
        Some(size) => size,
        None if root => {
            bill.note(format!("{label}: volume_size is not set: {} GB assumed (the real size comes from the AMI)", ec2.default_root_volume_gb));
            ec2.default_root_volume_gb
        }
        None => return Err(format!("{label}: volume_size is not set (or comes from a snapshot)")),
    };
    ebs_parts(c, bill, label, &kind, size, num_in(block, "iops")?, num_in(block, "throughput")?)
}

fn ebs_parts(c: &Ctx<'_>, bill: &mut Bill, label: &str, kind: &str, size: f64, iops: Option<f64>, throughput: Option<f64>) -> Result<(), String> {
    let ebs = &c.table.prices.ebs;
    let gb = lookup(&ebs.gb_month, kind, "volume type")?;
    bill.add(format!("{label} storage ({kind})"), size, "GB-months", gb, Basis::Config);
    match kind {
        "io1" => {
            let iops = iops.ok_or_else(|| format!("{label}: an io1 volume without iops"))?;
            bill.add(format!("{label} provisioned IOPS (io1)"), iops, "IOPS-months", ebs.io1_iops_month, Basis::Config);
        }
        "io2" => {
            let iops = iops.ok_or_else(|| format!("{label}: an io2 volume without iops"))?;
            bill.add_tiered(format!("{label} provisioned IOPS (io2)"), iops, "IOPS-months", &ebs.io2_iops_month, Basis::Config);
        }
        "gp3" => {
            let extra_iops = iops.unwrap_or(0.0) - ebs.gp3_free_iops;
            if extra_iops > 0.0 {
                bill.add(format!("{label} IOPS above {} (gp3)", ebs.gp3_free_iops), extra_iops, "IOPS-months", ebs.gp3_iops_month, Basis::Config);
            }
            let extra_throughput = throughput.unwrap_or(0.0) - ebs.gp3_free_throughput_mbps;
            if extra_throughput > 0.0 {
                bill.add(
                    format!("{label} throughput above {} MB/s (gp3)", ebs.gp3_free_throughput_mbps),
                    extra_throughput,
                    "MB/s-months",
                    ebs.gp3_throughput_mbps_month,
                    Basis::Config,
                );
            }
        }
        "standard" => bill.note(format!("{label}: I/O requests on magnetic (standard) volumes are not included")),
        _ => {}
    }
    Ok(())
}

fn aws_autoscaling_group(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    if !c.blocks("mixed_instances_policy").is_empty() {
        return Err(Stop::Unpriced("mixed_instances_policy is not priced (the instance types and spot share vary)".into()));
    }
    let instances = match c.n("desired_capacity")? {
        Some(n) => n,
        None => {
            let min = c.required_n("min_size")?;
            bill.note(format!("desired_capacity is not set: min_size ({min}) instances assumed"));
            min
        }
    };
    let mut one = Bill::default();
    match (c.r.get("launch_configuration"), c.blocks("launch_template").first()) {
        (Some(lc), _) if !matches!(lc, Val::Null) => {
            let lc = c.follow(Some(lc), "launch_configuration", "aws_launch_configuration", &["name", "id"])?;
            if let Some(tenancy) = str_in(&lc.attrs, "placement_tenancy")?
                && tenancy != "default"
            {
                return Err(format!("placement_tenancy {tenancy} is not in the price table (shared tenancy only)").into());
            }
            let instance_type = str_in(&lc.attrs, "instance_type")?.ok_or_else(|| format!("{}: instance_type is not set", lc.address))?;
            instance_hours(c, &mut one, &instance_type)?;
            if bool_in(&lc.attrs, "associate_public_ip_address")? == Some(true) {
                one.add("Public IPv4 address", c.hours(), "hours", c.table.prices.ec2.public_ipv4_hourly, Basis::Config);
            }
            instance_volumes(c, &mut one, &lc.attrs)?;
        }
        (_, Some(lt_ref)) => {
            let target = lt_ref.get("id").filter(|v| !matches!(v, Val::Null)).or_else(|| lt_ref.get("name"));
            let lt = c.follow(target, "launch_template", "aws_launch_template", &["id", "name"])?;
            let instance_type = str_in(&lt.attrs, "instance_type")?.ok_or_else(|| format!("{}: instance_type is not set", lt.address))?;
            instance_hours(c, &mut one, &instance_type)?;
            for mapping in blocks(&lt.attrs, "block_device_mappings") {
                let device = str_in(mapping, "device_name")?.unwrap_or_else(|| "?".into());
                if let Some(ebs) = blocks(mapping, "ebs").first() {
                    volume_block(c, &mut one, &format!("EBS volume {device}"), ebs, false)?;
                }
            }
            if blocks(&lt.attrs, "block_device_mappings").is_empty() {
                one.note("the launch template has no block_device_mappings: the AMI's volumes are not included");
            }
        }
        _ => return Err(Stop::Unpriced("the launch configuration or template is not set (or known only after apply)".into())),
    }
    bill.extend_scaled(one, instances);
    Ok(())
}

fn aws_ebs_volume(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    let kind = match c.s("type")? {
        Some(kind) => kind,
        None => {
            let default = c.table.prices.ec2.default_volume_type.clone();
            bill.note(format!("type is not set (or known only after apply): {default} assumed (the provider's default)"));
            default
        }
    };
    let size = match c.n("size")? {
        Some(size) => size,
        None if c.r.get("snapshot_id").is_some() => return Err(Stop::Unpriced("size is not set: it comes from the snapshot".into())),
        None => return Err(Stop::Unpriced("size is not set (or known only after apply)".into())),
    };
    ebs_parts(c, bill, "Volume", &kind, size, c.n("iops")?, c.n("throughput")?)?;
    Ok(())
}

fn aws_ebs_snapshot(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    let (gb, basis) = c.usage("storage_gb")?;
    bill.add("Snapshot storage", gb, "GB-months", c.table.prices.ebs.snapshot_gb_month, basis);
    Ok(())
}

fn aws_eip(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    bill.add("Public IPv4 address", c.hours(), "hours", c.table.prices.eip.hourly, Basis::Config);
    Ok(())
}

fn aws_db_instance(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    let rds = &c.table.prices.rds;
    // A read replica names its source instead of repeating the engine and storage.
    let source = match c.r.get("replicate_source_db") {
        Some(v @ Val::Ref(_)) => Some(c.follow(Some(v), "replicate_source_db", "aws_db_instance", &[])?),
        _ => None,
    };
    let from_source = |key: &str| -> Result<Option<String>, String> {
        match c.s(key)? {
            Some(v) => Ok(Some(v)),
            None => source.map(|s| str_in(&s.attrs, key)).transpose().map(Option::flatten),
        }
    };
    let engine = from_source("engine")?.ok_or("engine is not set (a read replica of a database outside this configuration?)")?;
    let Some(family) = rds.engines.get(&engine) else {
        if c.table.prices.aurora.engines.contains(&engine) {
            return Err(Stop::Unpriced(format!("engine {engine}: Aurora instances are priced on aws_rds_cluster_instance")));
        }
        return Err(Stop::Unpriced(format!(
            "engine {engine} is not in the price table (only {}; license-included engines vary)",
            rds.engines.keys().cloned().collect::<Vec<_>>().join(", ")
        )));
    };
    let class = c.required_s("instance_class")?;
    let hourly = rds
        .hourly
        .get(family)
        .and_then(|classes| classes.get(&class))
        .copied()
        .ok_or_else(|| format!("instance class {class} ({engine}) is not in the price table"))?;
    let multi_az = c.b("multi_az")?.unwrap_or(false);
    let factor = if multi_az { rds.multi_az_factor } else { 1.0 };
    let az = if multi_az { ", Multi-AZ" } else { "" };
    bill.add(format!("Database instance ({engine}, {class}{az})"), c.hours(), "hours", hourly * factor, Basis::Config);

    let size = match c.n("allocated_storage")? {
        Some(size) => size,
        None => {
            source.map(|s| num_in(&s.attrs, "allocated_storage")).transpose()?.flatten().ok_or("allocated_storage is not set (or known only after apply)")?
        }
    };
    let iops = c.n("iops")?;
    let storage_type = match from_source("storage_type")? {
        Some(t) => t,
        None if iops.is_some() => "io1".to_string(),
        None => "gp2".to_string(),
    };
    let gb = lookup(&rds.storage_gb_month, &storage_type, "storage type")?;
    bill.add(format!("Storage ({storage_type}{az})"), size, "GB-months", gb * factor, Basis::Config);
    match storage_type.as_str() {
        "io1" | "io2" => {
            let iops = iops.ok_or_else(|| format!("storage_type {storage_type} without iops"))?;
            bill.add(format!("Provisioned IOPS ({storage_type}{az})"), iops, "IOPS-months", rds.provisioned_iops_month * factor, Basis::Config);
        }
        "gp3" => {
            let base = match rds.gp3_baseline_small.below_gb {
                Some(below) if size < below => &rds.gp3_baseline_small,
                _ => &rds.gp3_baseline_large,
            };
            let extra_iops = iops.unwrap_or(0.0) - base.iops;
            if extra_iops > 0.0 {
                bill.add(format!("IOPS above {} (gp3{az})", base.iops), extra_iops, "IOPS-months", rds.gp3_iops_month * factor, Basis::Config);
            }
            let extra_throughput = c.n("storage_throughput")?.unwrap_or(0.0) - base.throughput_mbps;
            if extra_throughput > 0.0 {
                bill.add(
                    format!("Throughput above {} MB/s (gp3{az})", base.throughput_mbps),
                    extra_throughput,
                    "MB/s-months",
                    rds.gp3_throughput_mbps_month * factor,
                    Basis::Config,
                );
            }
        }
        "standard" => bill.note("I/O requests on magnetic storage are not included"),
        _ => {}
    }
    Ok(())
}

fn aws_rds_cluster(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    let aurora = &c.table.prices.aurora;
    let engine = c.required_s("engine")?;
    if !aurora.engines.contains(&engine) {
        return Err(Stop::Unpriced(format!("engine {engine}: Multi-AZ DB clusters are not in the price table (Aurora only)")));
    }
    if c.s("engine_mode")?.as_deref() == Some("serverless") {
        return Err(Stop::Unpriced("engine_mode serverless (Aurora Serverless v1) is not in the price table".into()));
    }
    let (gb, basis) = c.usage("storage_gb")?;
    if c.s("storage_type")?.as_deref() == Some("aurora-iopt1") {
        bill.add("Storage (Aurora I/O-Optimized)", gb, "GB-months", aurora.io_optimized_storage_gb_month, basis);
    } else {
        bill.add("Storage (Aurora Standard)", gb, "GB-months", aurora.storage_gb_month, basis);
        let (io, basis) = c.usage("monthly_io_requests")?;
        bill.add("I/O requests", io / 1e6, "1M requests", aurora.io_per_million, basis);
    }
    bill.note("the cluster's instances are priced on aws_rds_cluster_instance");
    Ok(())
}

fn aws_rds_cluster_instance(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    let aurora = &c.table.prices.aurora;
    let cluster = match c.r.get("cluster_identifier") {
        Some(v @ Val::Ref(_)) => c.follow(Some(v), "cluster_identifier", "aws_rds_cluster", &[]).ok(),
        Some(v @ Val::Str(_)) => c.follow(Some(v), "cluster_identifier", "aws_rds_cluster", &["cluster_identifier", "id"]).ok(),
        _ => None,
    };
    let engine = match c.s("engine")? {
        Some(e) => e,
        None => cluster.map(|cl| str_in(&cl.attrs, "engine")).transpose()?.flatten().ok_or("engine is not set (or known only after apply)")?,
    };
    if !aurora.engines.contains(&engine) {
        return Err(Stop::Unpriced(format!("engine {engine} is not an Aurora engine in the price table")));
    }
    let class = c.required_s("instance_class")?;
    if class == "db.serverless" {
        let (acus, basis) = c.usage("average_acus")?;
        bill.add("Aurora Serverless v2 capacity", acus * c.hours(), "ACU-hours", aurora.serverless_v2_acu_hour, basis);
        return Ok(());
    }
    let mut hourly = lookup(&aurora.hourly, &class, "Aurora instance class")?;
    let io_optimized = match cluster {
        Some(cl) => str_in(&cl.attrs, "storage_type")?.as_deref() == Some("aurora-iopt1"),
        None => false,
    };
    if io_optimized {
        hourly *= aurora.io_optimized_instance_factor;
    }
    let config = if io_optimized { ", I/O-Optimized" } else { "" };
    bill.add(format!("Database instance ({engine}, {class}{config})"), c.hours(), "hours", hourly, Basis::Config);
    Ok(())
}

fn aws_lambda_function(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    let lambda = &c.table.prices.lambda;
    let memory = c.n("memory_size")?.unwrap_or(lambda.default_memory_mb);
    let arch = match c.r.get("architectures") {
        None | Some(Val::Null) => "x86_64".to_string(),
        Some(Val::List(items)) if items.is_empty() => "x86_64".to_string(),
        Some(Val::List(items)) => match &items[0] {
            Val::Str(s) => s.clone(),
            other => return Err(not_known("architectures", other).into()),
        },
        Some(other) => return Err(not_known("architectures", other).into()),
    };
    let tiers = match arch.as_str() {
        "x86_64" => &lambda.gb_second_x86_64,
        "arm64" => &lambda.gb_second_arm64,
        other => return Err(Stop::Unpriced(format!("architecture {other} is not in the price table"))),
    };
    let (requests, requests_basis) = c.usage("monthly_requests")?;
    let (duration_ms, duration_basis) = c.usage("average_duration_ms")?;
    bill.add("Requests", requests / 1e6, "1M requests", lambda.requests_per_million, requests_basis);
    let seconds = requests * duration_ms / 1000.0;
    let basis = both(requests_basis, duration_basis);
    bill.add_tiered(format!("Duration ({memory} MB, {arch})"), seconds * memory / 1024.0, "GB-seconds", tiers, basis);
    let ephemeral = c.blocks("ephemeral_storage").first().map(|b| num_in(b, "size")).transpose()?.flatten();
    if let Some(size) = ephemeral
        && size > lambda.free_ephemeral_mb
    {
        let extra_gb = (size - lambda.free_ephemeral_mb) / 1024.0;
        bill.add(format!("Ephemeral storage above {} MB", lambda.free_ephemeral_mb), seconds * extra_gb, "GB-seconds", lambda.ephemeral_gb_second, basis);
    }
    Ok(())
}

fn aws_s3_bucket(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    let s3 = &c.table.prices.s3;
    let (gb, basis) = c.usage("storage_gb")?;
    bill.add_tiered("Storage (S3 Standard)", gb, "GB-months", &s3.storage_gb_month, basis);
    let (puts, basis) = c.usage("monthly_put_requests")?;
    bill.add("PUT, COPY, POST, LIST requests", puts / 1000.0, "1k requests", s3.put_per_1000, basis);
    let (gets, basis) = c.usage("monthly_get_requests")?;
    bill.add("GET, SELECT and other requests", gets / 1000.0, "1k requests", s3.get_per_1000, basis);
    Ok(())
}

fn aws_dynamodb_table(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    let ddb = &c.table.prices.dynamodb;
    if let Some(class) = c.s("table_class")?
        && class != "STANDARD"
    {
        return Err(Stop::Unpriced(format!("table_class {class} is not in the price table (STANDARD only)")));
    }
    let mode = c.s("billing_mode")?.unwrap_or_else(|| "PROVISIONED".into());
    match mode.as_str() {
        "PAY_PER_REQUEST" => {
            let (writes, basis) = c.usage("monthly_write_request_units")?;
            bill.add("Write request units (on-demand)", writes / 1e6, "1M WRUs", ddb.write_request_per_million, basis);
            let (reads, basis) = c.usage("monthly_read_request_units")?;
            bill.add("Read request units (on-demand)", reads / 1e6, "1M RRUs", ddb.read_request_per_million, basis);
        }
        "PROVISIONED" => {
            let mut wcu = c.n("write_capacity")?.ok_or("billing_mode PROVISIONED without write_capacity")?;
            let mut rcu = c.n("read_capacity")?.ok_or("billing_mode PROVISIONED without read_capacity")?;
            for index in c.blocks("global_secondary_index") {
                let name = str_in(index, "name")?.unwrap_or_else(|| "?".into());
                wcu += num_in(index, "write_capacity")?.ok_or_else(|| format!("global_secondary_index {name} without write_capacity"))?;
                rcu += num_in(index, "read_capacity")?.ok_or_else(|| format!("global_secondary_index {name} without read_capacity"))?;
            }
            bill.add("Provisioned write capacity", wcu * c.hours(), "WCU-hours", ddb.wcu_hour, Basis::Config);
            bill.add("Provisioned read capacity", rcu * c.hours(), "RCU-hours", ddb.rcu_hour, Basis::Config);
        }
        other => return Err(Stop::Unpriced(format!("billing_mode {other} is not PROVISIONED or PAY_PER_REQUEST"))),
    }
    let (gb, basis) = c.usage("storage_gb")?;
    bill.add("Storage", gb, "GB-months", ddb.storage_gb_month, basis);
    if !c.blocks("replica").is_empty() {
        bill.note("replicas in other regions (global tables) are not included");
    }
    Ok(())
}

fn aws_nat_gateway(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    let nat = &c.table.prices.nat_gateway;
    bill.add("NAT gateway", c.hours(), "hours", nat.hourly, Basis::Config);
    let (gb, basis) = c.usage("monthly_data_processed_gb")?;
    bill.add("Data processed", gb, "GB", nat.per_gb, basis);
    Ok(())
}

fn aws_lb(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    let lbs = &c.table.prices.lb;
    let kind = c.s("load_balancer_type")?.unwrap_or_else(|| "application".into());
    let (lb, unit, name) = match kind.as_str() {
        "application" => (&lbs.application, "LCU-hours", "Application load balancer"),
        "network" => (&lbs.network, "NLCU-hours", "Network load balancer"),
        "gateway" => (&lbs.gateway, "GLCU-hours", "Gateway load balancer"),
        other => return Err(Stop::Unpriced(format!("load_balancer_type {other} is not in the price table"))),
    };
    bill.add(name, c.hours(), "hours", lb.hourly, Basis::Config);
    let (units, basis) = c.usage("average_capacity_units")?;
    bill.add("Capacity units", units * c.hours(), unit, lb.capacity_unit_hour, basis);
    Ok(())
}

fn aws_elb(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    let elb = &c.table.prices.elb;
    bill.add("Classic load balancer", c.hours(), "hours", elb.hourly, Basis::Config);
    let (gb, basis) = c.usage("monthly_data_processed_gb")?;
    bill.add("Data processed", gb, "GB", elb.per_gb, basis);
    Ok(())
}

fn aws_cloudwatch_log_group(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    let cw = &c.table.prices.cloudwatch;
    let class = c.s("log_group_class")?.unwrap_or_else(|| "STANDARD".into());
    let ingestion = lookup(&cw.log_ingestion_gb, &class, "log_group_class")?;
    let (gb, basis) = c.usage("monthly_data_ingested_gb")?;
    bill.add(format!("Data ingested ({class})"), gb, "GB", ingestion, basis);
    let (stored, basis) = c.usage("storage_gb")?;
    bill.add("Storage (archived)", stored, "GB-months", cw.log_storage_gb_month, basis);
    Ok(())
}

fn aws_cloudwatch_metric_alarm(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    let cw = &c.table.prices.cloudwatch;
    let queries = c.blocks("metric_query");
    let metrics = queries.iter().filter(|q| !blocks(q, "metric").is_empty()).count().max(1) as f64;
    let anomaly = queries.iter().any(|q| q.get("expression").and_then(Val::as_str).is_some_and(|e| e.contains("ANOMALY_DETECTION_BAND")));
    let mut periods = vec![c.n("period")?];
    for q in &queries {
        for m in blocks(q, "metric") {
            periods.push(num_in(m, "period").ok().flatten());
        }
    }
    let high_resolution = periods.into_iter().flatten().any(|p| p < 60.0);
    let (price, resolution) = if high_resolution { (cw.alarm_high_resolution, "high resolution") } else { (cw.alarm_standard, "standard resolution") };
    // An anomaly detection alarm is billed as three metrics: the metric and the band's two bounds.
    let billed = if anomaly { metrics * 3.0 } else { metrics };
    let what = if anomaly { "anomaly detection" } else { "metric" };
    bill.add(format!("Alarm ({resolution}, {what})"), billed, "alarm metrics", price, Basis::Config);
    Ok(())
}

fn aws_cloudwatch_composite_alarm(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    bill.add("Composite alarm", 1.0, "alarms", c.table.prices.cloudwatch.composite_alarm, Basis::Config);
    Ok(())
}

fn aws_cloudwatch_dashboard(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    bill.add("Dashboard", 1.0, "dashboards", c.table.prices.cloudwatch.dashboard, Basis::Config);
    Ok(())
}

fn aws_sqs_queue(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    let sqs = &c.table.prices.sqs;
    let fifo = c.b("fifo_queue")?.unwrap_or(false);
    let (tiers, name) = if fifo { (&sqs.fifo_per_million, "Requests (FIFO)") } else { (&sqs.standard_per_million, "Requests (standard)") };
    let (requests, basis) = c.usage("monthly_requests")?;
    bill.add_tiered(name, requests / 1e6, "1M requests", tiers, basis);
    Ok(())
}

fn aws_sns_topic(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    if c.b("fifo_topic")? == Some(true) {
        return Err(Stop::Unpriced("FIFO topics are not in the price table".into()));
    }
    let (requests, basis) = c.usage("monthly_requests")?;
    bill.add("Publish requests", requests / 1e6, "1M requests", c.table.prices.sns.publish_per_million, basis);
    bill.note("deliveries to HTTP, email and SMS endpoints are not included (to SQS and Lambda they are free)");
    Ok(())
}

fn aws_apigatewayv2_api(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    let api = &c.table.prices.apigateway;
    let protocol = c.required_s("protocol_type")?;
    match protocol.as_str() {
        "HTTP" => {
            let (requests, basis) = c.usage("monthly_requests")?;
            bill.add_tiered("Requests (HTTP API)", requests / 1e6, "1M requests", &api.http_per_million, basis);
        }
        "WEBSOCKET" => {
            let (messages, basis) = c.usage("monthly_messages")?;
            bill.add_tiered("Messages (WebSocket)", messages / 1e6, "1M messages", &api.websocket_messages_per_million, basis);
            let (minutes, basis) = c.usage("monthly_connection_minutes")?;
            bill.add("Connection minutes (WebSocket)", minutes / 1e6, "1M minutes", api.websocket_connection_minutes_per_million, basis);
        }
        other => return Err(Stop::Unpriced(format!("protocol_type {other} is not HTTP or WEBSOCKET"))),
    }
    Ok(())
}

fn aws_api_gateway_rest_api(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    let (requests, basis) = c.usage("monthly_requests")?;
    bill.add_tiered("Requests (REST API)", requests / 1e6, "1M requests", &c.table.prices.apigateway.rest_per_million, basis);
    Ok(())
}

fn aws_api_gateway_stage(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    if c.b("cache_cluster_enabled")? != Some(true) {
        return Err(Stop::Free("a stage without a cache cluster; requests are priced on the REST API".into()));
    }
    let size = c.s("cache_cluster_size")?.unwrap_or_else(|| "0.5".into());
    let hourly = lookup(&c.table.prices.apigateway.cache_hourly, &size, "cache_cluster_size")?;
    bill.add(format!("Cache cluster ({size} GB)"), c.hours(), "hours", hourly, Basis::Config);
    Ok(())
}

fn aws_cloudfront_distribution(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    let cf = &c.table.prices.cloudfront;
    let (gb, basis) = c.usage("monthly_data_transfer_gb")?;
    bill.add_tiered("Data transfer out to viewers", gb, "GB", &cf.transfer_gb, basis);
    let (https, basis) = c.usage("monthly_https_requests")?;
    bill.add("HTTPS requests", https / 10_000.0, "10k requests", cf.https_per_10k, basis);
    let (http, basis) = c.usage("monthly_http_requests")?;
    if http > 0.0 {
        bill.add("HTTP requests", http / 10_000.0, "10k requests", cf.http_per_10k, basis);
    }
    if c.s("price_class")?.as_deref() != Some("PriceClass_100") {
        bill.note("United States and Europe rates; traffic served from other edge locations costs more");
    }
    Ok(())
}

fn aws_kms_key(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    let kms = &c.table.prices.kms;
    bill.add("Customer managed key", 1.0, "keys", kms.key_month, Basis::Config);
    let spec = match c.s("customer_master_key_spec")? {
        Some(spec) => spec,
        None => c.s("key_spec")?.unwrap_or_else(|| "SYMMETRIC_DEFAULT".into()),
    };
    let symmetric = spec == "SYMMETRIC_DEFAULT" || spec == "RSA_2048" || spec.starts_with("HMAC_");
    let (price, name) = if symmetric { (kms.symmetric_per_10k, "Requests") } else { (kms.asymmetric_per_10k, "Requests (asymmetric)") };
    let (requests, basis) = c.usage("monthly_requests")?;
    bill.add(name, requests / 10_000.0, "10k requests", price, basis);
    Ok(())
}

fn aws_secretsmanager_secret(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    let sm = &c.table.prices.secretsmanager;
    let replicas = c.blocks("replica").len() as f64;
    bill.add("Secret", 1.0 + replicas, "secrets", sm.secret_month, Basis::Config);
    let (calls, basis) = c.usage("monthly_api_calls")?;
    bill.add("API calls", calls / 10_000.0, "10k calls", sm.api_per_10k, basis);
    Ok(())
}

fn cache_node_hourly(c: &Ctx<'_>, bill: &mut Bill, node_type: &str, nodes: f64) -> Result<(), String> {
    let ec = &c.table.prices.elasticache;
    let mut hourly = lookup(&ec.hourly, node_type, "node type")?;
    let engine = c.s("engine")?.unwrap_or_else(|| "redis".into());
    if engine == "valkey" {
        hourly *= ec.valkey_factor;
    }
    bill.add(format!("Cache nodes ({engine}, {node_type})"), nodes * c.hours(), "node-hours", hourly, Basis::Config);
    Ok(())
}

fn aws_elasticache_cluster(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    if let Some(group) = c.r.get("replication_group_id").filter(|v| !matches!(v, Val::Null)) {
        let group = match group {
            Val::Ref(a) => a.clone(),
            other => other.as_str().unwrap_or("?").to_string(),
        };
        return Err(Stop::Unpriced(format!("a member of replication group {group}: its node type comes from the group, which this rule does not follow")));
    }
    let node_type = c.required_s("node_type")?;
    let nodes = c.n("num_cache_nodes")?.unwrap_or(1.0);
    cache_node_hourly(c, bill, &node_type, nodes)?;
    Ok(())
}

fn aws_elasticache_replication_group(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    let node_type = c.required_s("node_type")?;
    let nodes = if let Some(n) = c.n("num_cache_clusters")?.or(c.n("number_cache_clusters")?) {
        n
    } else if let Some(groups) = c.n("num_node_groups")? {
        groups * (c.n("replicas_per_node_group")?.unwrap_or(0.0) + 1.0)
    } else {
        bill.note("num_cache_clusters is not set: 1 node assumed");
        1.0
    };
    cache_node_hourly(c, bill, &node_type, nodes)?;
    Ok(())
}

fn aws_ecs_service(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    let fargate = &c.table.prices.fargate;
    let launch = match c.s("launch_type")? {
        Some(launch) => launch,
        None => {
            let strategy = c.blocks("capacity_provider_strategy");
            if strategy.is_empty() {
                return Err(Stop::Unpriced("launch_type is not set: it depends on the cluster's default capacity provider strategy".into()));
            }
            let mut providers = Vec::new();
            for s in strategy {
                providers.push(str_in(s, "capacity_provider")?.ok_or("capacity_provider_strategy without capacity_provider")?);
            }
            if providers.iter().any(|p| p == "FARGATE_SPOT") {
                return Err(Stop::Unpriced("FARGATE_SPOT prices vary and are not in the price table".into()));
            }
            if providers.iter().all(|p| p == "FARGATE") { "FARGATE".to_string() } else { "EC2".to_string() }
        }
    };
    match launch.as_str() {
        "FARGATE" => {}
        "EC2" | "EXTERNAL" => return Err(Stop::Free(format!("launch type {launch}: the tasks run on the cluster's own instances, priced there"))),
        other => return Err(Stop::Unpriced(format!("launch_type {other} is not in the price table"))),
    }
    let task = c.follow(c.r.get("task_definition"), "task_definition", "aws_ecs_task_definition", &["family", "arn"]).or_else(|e| {
        // Plan JSON writes `family:revision` or an ARN; match the family.
        match c.r.get("task_definition").and_then(Val::as_str) {
            Some(s) => {
                let family = s.rsplit('/').next().unwrap_or(s).split(':').next().unwrap_or(s);
                c.module.of_kind("aws_ecs_task_definition").find(|t| t.get("family").and_then(Val::as_str) == Some(family)).ok_or(e)
            }
            None => Err(e),
        }
    })?;
    let cpu = num_in(&task.attrs, "cpu")?.ok_or_else(|| format!("{}: no task-level cpu (Fargate needs it)", task.address))?;
    let memory = num_in(&task.attrs, "memory")?.ok_or_else(|| format!("{}: no task-level memory (Fargate needs it)", task.address))?;
    let platform = blocks(&task.attrs, "runtime_platform");
    let (arch, os) = match platform.first() {
        Some(p) => (str_in(p, "cpu_architecture")?.unwrap_or_else(|| "X86_64".into()), str_in(p, "operating_system_family")?.unwrap_or_else(|| "LINUX".into())),
        None => ("X86_64".to_string(), "LINUX".to_string()),
    };
    if os != "LINUX" {
        return Err(Stop::Unpriced(format!("operating_system_family {os} is not in the price table (Linux only)")));
    }
    let (vcpu_price, gb_price) = match arch.as_str() {
        "X86_64" => (fargate.vcpu_hour_x86_64, fargate.gb_hour_x86_64),
        "ARM64" => (fargate.vcpu_hour_arm64, fargate.gb_hour_arm64),
        other => return Err(Stop::Unpriced(format!("cpu_architecture {other} is not in the price table"))),
    };
    let tasks = match c.n("desired_count")? {
        Some(n) => n,
        None => {
            bill.note("desired_count is not set: the provider's default of 0 tasks is priced");
            0.0
        }
    };
    let task_hours = tasks * c.hours();
    let vcpu = cpu / 1024.0;
    let gb = memory / 1024.0;
    bill.add(format!("Fargate vCPU ({vcpu} vCPU × {tasks} tasks, {arch})"), vcpu * task_hours, "vCPU-hours", vcpu_price, Basis::Config);
    bill.add(format!("Fargate memory ({gb} GB × {tasks} tasks, {arch})"), gb * task_hours, "GB-hours", gb_price, Basis::Config);
    let ephemeral = blocks(&task.attrs, "ephemeral_storage").first().map(|b| num_in(b, "size_in_gib")).transpose()?.flatten();
    if let Some(size) = ephemeral
        && size > fargate.free_ephemeral_gb
    {
        bill.add(
            format!("Fargate ephemeral storage above {} GB", fargate.free_ephemeral_gb),
            (size - fargate.free_ephemeral_gb) * task_hours,
            "GB-hours",
            fargate.ephemeral_gb_hour,
            Basis::Config,
        );
    }
    Ok(())
}

fn aws_cognito_user_pool(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    let cognito = &c.table.prices.cognito;
    let tier = match c.s("user_pool_tier")? {
        Some(tier) => tier,
        None => {
            bill.note(format!("user_pool_tier is not set: {} assumed (the AWS default for new pools)", cognito.default_tier));
            cognito.default_tier.clone()
        }
    };
    let tiers = cognito.per_mau.get(&tier).ok_or_else(|| format!("user_pool_tier {tier} is not in the price table"))?;
    let (users, basis) = c.usage("monthly_active_users")?;
    bill.add_tiered(format!("Monthly active users ({tier})"), users, "MAUs", tiers, basis);
    Ok(())
}

fn aws_route53_zone(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    let r53 = &c.table.prices.route53;
    bill.add("Hosted zone", 1.0, "zones", r53.zone_month, Basis::Config);
    let (queries, basis) = c.usage("monthly_queries")?;
    bill.add_tiered("Standard queries", queries / 1e6, "1M queries", &r53.queries_per_million, basis);
    Ok(())
}

fn aws_route53_health_check(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    let r53 = &c.table.prices.route53;
    let kind = c.required_s("type")?;
    bill.add(format!("Health check ({kind})"), 1.0, "health checks", r53.health_check_basic, Basis::Config);
    let mut features = Vec::new();
    if kind.starts_with("HTTPS") {
        features.push("HTTPS");
    }
    if kind.ends_with("_STR_MATCH") {
        features.push("string matching");
    }
    if c.n("request_interval")?.is_some_and(|i| i < 30.0) {
        features.push("fast interval");
    }
    if c.b("measure_latency")? == Some(true) {
        features.push("latency measurement");
    }
    if !features.is_empty() {
        bill.add(format!("Optional features ({})", features.join(", ")), features.len() as f64, "features", r53.health_check_feature, Basis::Config);
    }
    bill.note("rates for endpoints outside AWS; health checks of AWS endpoints cost less");
    Ok(())
}

fn aws_eks_cluster(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    bill.add("EKS cluster (standard support)", c.hours(), "hours", c.table.prices.eks.cluster_hour, Basis::Config);
    bill.note("node groups and Fargate pods are priced where they run; a version in extended support costs more");
    Ok(())
}

fn aws_vpc_endpoint(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    let ep = &c.table.prices.vpc_endpoint;
    let kind = c.s("vpc_endpoint_type")?.unwrap_or_else(|| "Gateway".into());
    match kind.as_str() {
        "Gateway" => Err(Stop::Free("gateway endpoints (S3, DynamoDB) have no charge".into())),
        "Interface" => {
            let zones = match c.r.get("subnet_ids") {
                None | Some(Val::Null) => {
                    bill.note("subnet_ids is not set: one availability zone assumed");
                    1.0
                }
                Some(Val::List(items)) => (items.len() as f64).max(1.0),
                Some(other) => return Err(not_known("subnet_ids", other).into()),
            };
            bill.add("Interface endpoint", zones * c.hours(), "AZ-hours", ep.interface_az_hour, Basis::Config);
            let (gb, basis) = c.usage("monthly_data_processed_gb")?;
            bill.add("Data processed", gb, "GB", ep.per_gb, basis);
            Ok(())
        }
        other => Err(Stop::Unpriced(format!("vpc_endpoint_type {other} is not in the price table"))),
    }
}

fn aws_ecr_repository(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    let (gb, basis) = c.usage("storage_gb")?;
    bill.add("Image storage", gb, "GB-months", c.table.prices.ecr.storage_gb_month, basis);
    Ok(())
}

fn aws_efs_file_system(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    let efs = &c.table.prices.efs;
    let one_zone = c.s("availability_zone_name")?.is_some();
    let (price, name) = if one_zone { (efs.one_zone_gb_month, "Storage (One Zone)") } else { (efs.standard_gb_month, "Storage (Standard)") };
    let (gb, basis) = c.usage("storage_gb")?;
    bill.add(name, gb, "GB-months", price, basis);
    match c.s("throughput_mode")?.as_deref() {
        Some("provisioned") => {
            let mibps = c.required_n("provisioned_throughput_in_mibps")?;
            bill.add("Provisioned throughput", mibps, "MiB/s-months", efs.provisioned_mibps_month, Basis::Config);
        }
        Some("elastic") => bill.note("elastic throughput is charged per GB read and written, which is not included"),
        _ => {}
    }
    Ok(())
}

fn aws_ssm_parameter(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    match c.s("tier")?.as_deref() {
        Some("Advanced") => {
            bill.add("Advanced parameter", 1.0, "parameters", c.table.prices.ssm.advanced_parameter_month, Basis::Config);
            Ok(())
        }
        _ => Err(Stop::Free("standard parameters have no charge".into())),
    }
}

fn aws_sfn_state_machine(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    let kind = c.s("type")?.unwrap_or_else(|| "STANDARD".into());
    if kind != "STANDARD" {
        return Err(Stop::Unpriced(format!("type {kind} is not in the price table (STANDARD only)")));
    }
    let (transitions, basis) = c.usage("monthly_transitions")?;
    bill.add("State transitions", transitions / 1000.0, "1k transitions", c.table.prices.sfn.standard_per_1000_transitions, basis);
    Ok(())
}

fn aws_wafv2_web_acl(c: &Ctx<'_>, bill: &mut Bill) -> Result<(), Stop> {
    let waf = &c.table.prices.wafv2;
    bill.add("Web ACL", 1.0, "web ACLs", waf.web_acl_month, Basis::Config);
    let rules = c.blocks("rule").len() as f64;
    if rules > 0.0 {
        bill.add("Rules", rules, "rules", waf.rule_month, Basis::Config);
    }
    let (requests, basis) = c.usage("monthly_requests")?;
    bill.add("Requests", requests / 1e6, "1M requests", waf.requests_per_million, basis);
    Ok(())
}
