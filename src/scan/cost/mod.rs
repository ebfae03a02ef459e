//! Offline cost estimate of a Terraform configuration ([`Module`], from HCL
//! or a plan): a monthly total and a per-resource breakdown priced from the
//! embedded table `data/prices/aws-us-east-1.json` (us-east-1 on-demand,
//! with approximate region factors), usage assumptions a usage file can
//! override, and the budget check against an environment's `cost_threshold`.
//!
//! Every resource ends up in one of three states: `priced` (with its
//! components), `free` (costs nothing by itself, with the reason) or
//! `unpriced` (a type the table does not know, or a price-selecting attribute
//! not known before apply, with the reason). Unpriced is never counted as $0
//! silently: the estimate carries `unpriced_count` and each resource's reason.
//!
//! Pure: no I/O, except [`Usage::load`] which reads the usage file. It does
//! not fetch prices, apply free tiers, discounts or data transfer out.

mod price;
mod table;
mod usage;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::tf::{Module, Resource, Val};

pub use table::{PriceTable, TableMeta, Tier, UsageKey};
pub use usage::{Usage, UsageError};

/// How a resource came out of pricing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CostStatus {
    Priced,
    /// Costs nothing by itself (IAM, security groups, bucket policies, ...).
    Free,
    /// Could not be priced; `reason` says why. Not counted in the total.
    Unpriced,
}

/// Where a component's quantity comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The resource's configuration (instance type, size, capacity).
    Config,
    /// The usage file.
    UsageFile,
    /// An assumption: the price table's default usage.
    UsageDefault,
}

/// One priced line of a resource: `quantity × unit_price = monthly`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CostComponent {
    pub name: String,
    /// Per month, across all instances of the resource (`count`).
    pub quantity: f64,
    pub unit: String,
    /// In the estimate's region (region factor applied); for tiered prices,
    /// the effective average over the quantity.
    pub unit_price: f64,
    pub monthly: f64,
    pub basis: Basis,
}

/// One resource's monthly cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ResourceCost {
    pub address: String,
    /// Terraform type (`aws_instance`).
    pub kind: String,
    /// Instances priced (`count` / `for_each`); null when not known.
    pub count: Option<u32>,
    pub status: CostStatus,
    /// 0 unless priced.
    pub monthly: f64,
    pub components: Vec<CostComponent>,
    /// Why the resource is free or unpriced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Assumptions made and parts left out, in sentences.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The estimate of a whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CostEstimate {
    pub currency: String,
    pub region: String,
    /// Multiplier applied to us-east-1 prices (1.0 when the region is unknown to the table).
    pub region_factor: f64,
    /// When the table's prices were taken (`2025-01`).
    pub table_date: String,
    pub table_source: String,
    /// Sum of the priced resources; unpriced ones are not in it.
    pub monthly_total: f64,
    pub priced_count: usize,
    pub free_count: usize,
    pub unpriced_count: usize,
    pub resources: Vec<ResourceCost>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Monthly cost before and after a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CostImpact {
    pub currency: String,
    pub before: f64,
    pub after: f64,
    /// `after - before`.
    pub delta: f64,
    pub before_unpriced: usize,
    pub after_unpriced: usize,
    /// Resources whose cost or status changed, added ones and removed ones.
    pub changes: Vec<ResourceDelta>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ResourceDelta {
    pub address: String,
    pub kind: String,
    /// Null when the resource is not there before (added).
    pub before: Option<f64>,
    /// Null when the resource is not there after (removed).
    pub after: Option<f64>,
    pub delta: f64,
    pub before_status: Option<CostStatus>,
    pub after_status: Option<CostStatus>,
}

/// The estimate against an environment's `cost_threshold` (dollars per month).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "status", rename_all = "UPPERCASE")]
pub enum BudgetStatus {
    /// Below 80 % of the threshold, or no threshold (then `percent` is null and `note` says so).
    Pass {
        percent: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// From 80 % up to and including 100 % of the threshold.
    Warn { percent: f64 },
    /// Above the threshold; `percent` is null when the threshold is 0.
    Fail { percent: Option<f64> },
}

/// Prices every managed resource of `module` (data sources are left out).
///
/// `region` selects the region factor; a region the table does not know is
/// priced at us-east-1 prices, and the estimate's notes say so.
pub fn estimate(module: &Module, table: &PriceTable, usage: &Usage, region: &str) -> CostEstimate {
    let (factor, mut notes) = region_factor(table, region);
    let resources: Vec<ResourceCost> = module.resources.iter().filter(|r| !r.data).map(|r| price_with_factor(r, module, table, usage, factor)).collect();
    let count = |status| resources.iter().filter(|r| r.status == status).count();
    let (priced_count, free_count, unpriced_count) = (count(CostStatus::Priced), count(CostStatus::Free), count(CostStatus::Unpriced));
    let monthly_total = round(resources.iter().map(|r| r.monthly).sum(), 2);
    if resources.iter().flat_map(|r| &r.components).any(|c| c.basis == Basis::UsageDefault) {
        notes.push("usage-priced components without a usage file entry use the price table's default usage (basis usage_default)".into());
    }
    for address in usage.resource_usage.keys() {
        let covers = |r: &ResourceCost| r.address == *address || r.address.strip_prefix(address.as_str()).is_some_and(|rest| rest.starts_with('['));
        if !resources.iter().any(covers) {
            notes.push(format!("the usage file's entry for {address} matches no resource here"));
        }
    }
    notes.push(format!("free tiers are not applied; not included: {}", table.meta.not_included));
    CostEstimate {
        currency: table.meta.currency.clone(),
        region: region.to_string(),
        region_factor: factor,
        table_date: table.meta.table_date.clone(),
        table_source: table.meta.source.clone(),
        monthly_total,
        priced_count,
        free_count,
        unpriced_count,
        resources,
        notes,
    }
}

/// Prices one resource; `module` is its configuration, where the rule
/// follows references (an ECS service's task definition, an autoscaling
/// group's launch template). A module holding just the resource will do.
pub fn price_resource(resource: &Resource, module: &Module, table: &PriceTable, usage: &Usage, region: &str) -> ResourceCost {
    let (factor, _) = region_factor(table, region);
    price_with_factor(resource, module, table, usage, factor)
}

/// The monthly cost of `before` and `after` and what changed between them.
pub fn cost_impact(before: &Module, after: &Module, table: &PriceTable, usage: &Usage, region: &str) -> CostImpact {
    let old = estimate(before, table, usage, region);
    let new = estimate(after, table, usage, region);
    let old_by: BTreeMap<&str, &ResourceCost> = old.resources.iter().map(|r| (r.address.as_str(), r)).collect();
    let new_by: BTreeMap<&str, &ResourceCost> = new.resources.iter().map(|r| (r.address.as_str(), r)).collect();
    let mut addresses: Vec<&str> = old_by.keys().chain(new_by.keys()).copied().collect();
    addresses.sort_unstable();
    addresses.dedup();
    let changes = addresses
        .into_iter()
        .filter_map(|address| {
            let (b, a) = (old_by.get(address), new_by.get(address));
            let same = matches!((b, a), (Some(b), Some(a)) if b.monthly == a.monthly && b.status == a.status);
            if same {
                return None;
            }
            let either = b.or(a).expect("the address comes from one side");
            let (before, after) = (b.map(|r| r.monthly), a.map(|r| r.monthly));
            Some(ResourceDelta {
                address: address.to_string(),
                kind: either.kind.clone(),
                before,
                after,
                delta: round(after.unwrap_or(0.0) - before.unwrap_or(0.0), 2),
                before_status: b.map(|r| r.status),
                after_status: a.map(|r| r.status),
            })
        })
        .collect();
    CostImpact {
        currency: new.currency,
        before: old.monthly_total,
        after: new.monthly_total,
        delta: round(new.monthly_total - old.monthly_total, 2),
        before_unpriced: old.unpriced_count,
        after_unpriced: new.unpriced_count,
        changes,
    }
}

/// Compares a monthly total with a threshold: above it FAIL, from 80 % to
/// 100 % (inclusive) WARN, below PASS; no threshold is a PASS with a note.
pub fn budget_check(total: f64, threshold: Option<f64>) -> BudgetStatus {
    let Some(threshold) = threshold else {
        return BudgetStatus::Pass { percent: None, note: Some("no cost_threshold is configured for this environment".into()) };
    };
    if threshold <= 0.0 {
        return if total > 0.0 { BudgetStatus::Fail { percent: None } } else { BudgetStatus::Pass { percent: Some(0.0), note: None } };
    }
    let percent = round(total / threshold * 100.0, 1);
    // Compared without dividing, so that exactly 80 % and 100 % land where the rule says.
    if total > threshold {
        BudgetStatus::Fail { percent: Some(percent) }
    } else if total * 5.0 >= threshold * 4.0 {
        BudgetStatus::Warn { percent }
    } else {
        BudgetStatus::Pass { percent: Some(percent), note: None }
    }
}

/// Every resource type the rules price.
pub fn priced_types() -> Vec<&'static str> {
    price::priced_types().collect()
}

impl CostEstimate {
    /// One line for a tool reply: `$14.71/month in us-east-1 (prices of 2025-01); 2 priced, 3 free, 1 unpriced`.
    pub fn summary(&self) -> String {
        let unpriced = if self.unpriced_count > 0 { " (unpriced resources are not in the total)" } else { "" };
        format!(
            "{}/month in {} (prices of {}); {} priced, {} free, {} unpriced{unpriced}",
            money(self.monthly_total, &self.currency),
            self.region,
            self.table_date,
            self.priced_count,
            self.free_count,
            self.unpriced_count
        )
    }
}

impl CostImpact {
    /// `+$12.34/month ($100.00 → $112.34)`, with the unpriced count after when there are any.
    pub fn summary(&self) -> String {
        let sign = if self.delta >= 0.0 { "+" } else { "-" };
        let unpriced = match self.after_unpriced {
            0 => String::new(),
            n => format!("; {n} resource(s) unpriced, not included"),
        };
        format!(
            "{sign}{}/month ({} → {}){unpriced}",
            money(self.delta.abs(), &self.currency),
            money(self.before, &self.currency),
            money(self.after, &self.currency)
        )
    }
}

impl BudgetStatus {
    /// `PASS`, `WARN` or `FAIL`.
    pub fn label(&self) -> &'static str {
        match self {
            BudgetStatus::Pass { .. } => "PASS",
            BudgetStatus::Warn { .. } => "WARN",
            BudgetStatus::Fail { .. } => "FAIL",
        }
    }
}

fn money(amount: f64, currency: &str) -> String {
    // Sums of nothing can be -0.0; show it as 0.
    let amount = amount + 0.0;
    if currency == "USD" { format!("${amount:.2}") } else { format!("{amount:.2} {currency}") }
}

fn region_factor(table: &PriceTable, region: &str) -> (f64, Vec<String>) {
    match table.region_factor(region) {
        Some(1.0) => (1.0, Vec::new()),
        Some(f) => (f, vec![format!("prices are us-east-1 prices × {f} for {region}, an approximation ({})", table.region_factors_note)]),
        None => (
            1.0,
            vec![format!(
                "the price table has no factor for region {region:?}: us-east-1 prices are used (known: {})",
                table.region_factors.keys().cloned().collect::<Vec<_>>().join(", ")
            )],
        ),
    }
}

fn price_with_factor(r: &Resource, module: &Module, table: &PriceTable, usage: &Usage, factor: f64) -> ResourceCost {
    let mut cost = ResourceCost {
        address: r.address.clone(),
        kind: r.kind.clone(),
        count: Some(1),
        status: CostStatus::Unpriced,
        monthly: 0.0,
        components: Vec::new(),
        reason: None,
        notes: Vec::new(),
    };
    let bill = match price::price(r, module, table, usage) {
        price::Outcome::Free(reason) => {
            cost.status = CostStatus::Free;
            cost.count = instances(r).ok();
            cost.reason = Some(reason);
            return cost;
        }
        price::Outcome::Unpriced(reason) => {
            cost.count = instances(r).ok();
            cost.reason = Some(reason);
            return cost;
        }
        price::Outcome::Priced(bill) => bill,
    };
    let count = match instances(r) {
        Ok(n) => n,
        Err(reason) => {
            cost.count = None;
            cost.reason = Some(reason);
            return cost;
        }
    };
    let factor = if table.is_global(&r.kind) { 1.0 } else { factor };
    let mut total = 0.0;
    for part in bill.parts {
        let quantity = part.quantity * f64::from(count);
        let unit_price = round(part.unit_price * factor, 10);
        let monthly = quantity * unit_price;
        total += monthly;
        cost.components.push(CostComponent {
            name: part.name,
            quantity: round(quantity, 6),
            unit: part.unit,
            unit_price,
            monthly: round(monthly, 4),
            basis: part.basis,
        });
    }
    cost.status = CostStatus::Priced;
    cost.count = Some(count);
    cost.monthly = round(total, 2);
    cost.notes = bill.notes;
    if count == 0 {
        cost.notes.push("count is 0: no instance is created".into());
    }
    cost
}

/// How many instances a resource block stands for: `count`, the size of
/// `for_each`, or 1. Plan resources are already one per instance (their
/// address carries the index), so only unexpanded blocks are counted.
fn instances(r: &Resource) -> Result<u32, String> {
    if r.address.ends_with(']') {
        return Ok(1);
    }
    if let Some(count) = r.get("count") {
        return match count {
            Val::Num(n) if *n >= 0.0 && n.fract() == 0.0 && *n <= f64::from(u32::MAX) => Ok(*n as u32),
            Val::Ref(address) => Err(format!("count comes from {address}, known only after apply")),
            Val::Unknown(source) => Err(format!("count is not known until apply (`{source}`)")),
            other => Err(format!("count is not a whole number ({})", other.to_json())),
        };
    }
    if let Some(for_each) = r.get("for_each") {
        return match for_each {
            Val::List(items) => Ok(items.len() as u32),
            Val::Map(map) => Ok(map.len() as u32),
            Val::Ref(address) => Err(format!("for_each comes from {address}, known only after apply")),
            Val::Unknown(source) => Err(format!("for_each is not known until apply (`{source}`)")),
            other => Err(format!("for_each is not a map or set ({})", other.to_json())),
        };
    }
    Ok(1)
}

fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests;
