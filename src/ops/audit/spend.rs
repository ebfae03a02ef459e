//! The cost audit: actual spend (Cost Explorer, filtered by the environment's
//! tags) by month and service with the month-over-month change, the forecast
//! and the spend per resource where the backend gives them, the offline
//! estimate of what is deployed beside the actual, and savings found in the
//! live configuration, each with its evidence and expected monthly saving.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;

use super::AuditFinding;
use crate::cloud::Cloud;
use crate::cloud::cost::{self, Period};
use crate::cloud::posture::Live;
use crate::config::Config;
use crate::scan::Severity;
use crate::scan::cost::{PriceTable, Usage};

/// Full months of history besides the current one.
const MONTHS_BACK: u32 = 3;
/// CloudWatch Logs storage, USD per GB-month (us-east-1).
const LOG_STORAGE_GB_MONTH: f64 = 0.03;
/// EBS gp3 storage and snapshots, USD per GB-month (us-east-1).
const EBS_GB_MONTH: f64 = 0.08;
const SNAPSHOT_GB_MONTH: f64 = 0.05;
/// A NAT gateway's hourly charge, USD (us-east-1), for 730 hours.
const NAT_MONTH: f64 = 0.045 * 730.0;
/// Snapshots older than this are called old.
const OLD_SNAPSHOT_DAYS: i64 = 90;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Driver {
    pub service: String,
    pub amount: f64,
    /// Share of the month's total, 0–1.
    pub share: f64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Opportunity {
    pub resource: String,
    pub what: String,
    pub evidence: String,
    /// Expected saving per month in USD; `None` when it depends on something not measured (said in the evidence).
    pub monthly_saving: Option<f64>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CostAudit {
    pub currency: String,
    pub month_to_date: Option<f64>,
    pub last_month: Option<f64>,
    /// Month to date against the same days of last month's run rate: (difference, percent).
    pub change_vs_last_month: Option<(f64, f64)>,
    pub forecast_this_month: Option<f64>,
    pub months: Vec<Period>,
    pub top_drivers: Vec<Driver>,
    /// Spend of the last 14 days per resource, where the backend gives it.
    pub by_resource: Option<Vec<(String, f64)>>,
    /// The offline price table's monthly estimate of what is deployed.
    pub estimated_monthly: f64,
    pub estimate_vs_actual: String,
    pub opportunities: Vec<Opportunity>,
    pub potential_monthly_saving: f64,
    pub notes: Vec<String>,
    #[serde(skip)]
    pub calls: u32,
    #[serde(skip)]
    pub findings: Vec<AuditFinding>,
}

fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn first_of_month_back(d: NaiveDate, back: u32) -> NaiveDate {
    let first = d.with_day(1).unwrap_or(d);
    first.checked_sub_months(chrono::Months::new(back)).unwrap_or(first)
}

pub async fn run(cloud: &Cloud, config: &Config, env: &str, state: &[Value], live: &mut Live, tags: &[(String, String)], now: DateTime<Utc>) -> CostAudit {
    let today = now.date_naive();
    let spend = cost::spend(cloud, tags, first_of_month_back(today, MONTHS_BACK), today).await;
    let calls_before = live.calls;
    crate::cloud::posture::read_storage(cloud, tags, live).await;
    let mut calls = spend.calls + (live.calls - calls_before);
    let module = super::module(state);
    let estimate = crate::scan::cost::estimate(&module, PriceTable::embedded(), &Usage::default(), config.region());
    let mut audit = analyse(&spend.months, today, estimate.monthly_total);
    audit.forecast_this_month = spend.forecast.map(|f| cents(f.0 + audit.month_to_date.unwrap_or(0.0)));
    audit.by_resource = spend.by_resource.map(|v| v.into_iter().map(|(r, a)| (r, cents(a))).collect());
    audit.notes = spend.notes;
    if audit.months.is_empty() || audit.months.iter().all(|m| m.total == 0.0) {
        audit.notes.push(format!(
            "Cost Explorer recorded no spend for Project={}, Environment={env}: new resources take up to 24 hours to appear, and the tags must be activated as cost allocation tags in the Billing console",
            config.project.name
        ));
    }
    audit.opportunities = opportunities(state, live, now);
    let (memory, memory_calls, memory_notes) = lambda_memory(cloud, state, now).await;
    calls += memory_calls;
    audit.opportunities.extend(memory);
    audit.notes.extend(memory_notes);
    audit.potential_monthly_saving = cents(audit.opportunities.iter().filter_map(|o| o.monthly_saving).sum());
    audit.findings = audit
        .opportunities
        .iter()
        .map(|o| AuditFinding {
            id: "FC_COST_001".into(),
            focus: "cost".into(),
            severity: if o.monthly_saving.unwrap_or(0.0) >= 10.0 { Severity::Medium } else { Severity::Low },
            title: o.what.clone(),
            resource: o.resource.clone(),
            arn: None,
            evidence: o.evidence.clone(),
            fix: o.what.clone(),
            controls: Vec::new(),
            area: None,
            source: "live".into(),
            change: String::new(),
        })
        .collect();
    audit.calls = calls;
    audit
}

/// Totals, change, drivers and the estimate's comparison from the monthly periods. Pure.
pub fn analyse(months: &[Period], today: NaiveDate, estimated_monthly: f64) -> CostAudit {
    let this_month = first_of_month_back(today, 0).format("%Y-%m-%d").to_string();
    let last_month_start = first_of_month_back(today, 1).format("%Y-%m-%d").to_string();
    let current = months.iter().find(|m| m.start == this_month);
    let previous = months.iter().find(|m| m.start == last_month_start);
    let month_to_date = current.map(|m| cents(m.total));
    let last_month = previous.map(|m| cents(m.total));
    let days_in_last = (first_of_month_back(today, 0) - first_of_month_back(today, 1)).num_days().max(1) as f64;
    let change_vs_last_month = match (month_to_date, last_month) {
        (Some(now), Some(before)) if before > 0.0 => {
            let same_days = before / days_in_last * f64::from(today.day());
            Some((cents(now - same_days), ((now - same_days) / same_days * 1000.0).round() / 10.0))
        }
        _ => None,
    };
    // Drivers: the latest full month when there is one, else this month.
    let basis = previous.or(current);
    let mut top_drivers: Vec<Driver> = basis
        .map(|m| {
            m.groups
                .iter()
                .filter(|g| g.1 > 0.0)
                .map(|(s, a)| Driver {
                    service: s.clone(),
                    amount: cents(*a),
                    share: if m.total > 0.0 { (a / m.total * 1000.0).round() / 1000.0 } else { 0.0 },
                })
                .collect()
        })
        .unwrap_or_default();
    top_drivers.sort_by(|a, b| b.amount.total_cmp(&a.amount));
    top_drivers.truncate(5);
    let currency = months.first().map(|m| m.unit.clone()).unwrap_or_else(|| "USD".into());
    let actual = last_month.or(month_to_date);
    let estimate_vs_actual = match actual {
        None => format!("estimated {estimated_monthly:.2} a month for what is deployed; no actual spend to compare with yet"),
        Some(a) => {
            let which = if last_month.is_some() { "last month" } else { "this month so far" };
            let diff = a - estimated_monthly;
            if diff.abs() <= (0.1 * estimated_monthly).max(1.0) {
                format!("estimated {estimated_monthly:.2} a month; actual {which} {a:.2}: they agree within 10%")
            } else if diff > 0.0 {
                format!(
                    "estimated {estimated_monthly:.2} a month; actual {which} {a:.2}, {diff:.2} more: the estimate prices the deployed resources at the assumed usage (usage.json), while the bill also counts real traffic, requests, data transfer, and anything else carrying the environment's tags"
                )
            } else {
                format!(
                    "estimated {estimated_monthly:.2} a month; actual {which} {a:.2}, {:.2} less: the free tier, usage below the assumptions, or resources that existed for part of the month",
                    -diff
                )
            }
        }
    };
    CostAudit {
        currency,
        month_to_date,
        last_month,
        change_vs_last_month,
        forecast_this_month: None,
        months: months
            .iter()
            .map(|m| Period { total: cents(m.total), groups: m.groups.iter().map(|(s, a)| (s.clone(), cents(*a))).collect(), ..m.clone() })
            .collect(),
        top_drivers,
        by_resource: None,
        estimated_monthly: cents(estimated_monthly),
        estimate_vs_actual,
        opportunities: Vec::new(),
        potential_monthly_saving: 0.0,
        notes: Vec::new(),
        calls: 0,
        findings: Vec::new(),
    }
}

/// Savings visible in the configuration: log groups kept forever, buckets without lifecycle rules,
/// unattached volumes, old snapshots, NAT gateways, provisioned table capacity. Pure.
pub fn opportunities(state: &[Value], live: &Live, now: DateTime<Utc>) -> Vec<Opportunity> {
    use super::overlay::{kind, s};
    let mut out = Vec::new();
    for r in state {
        let address = r.get("address").and_then(Value::as_str).unwrap_or_default().to_string();
        match kind(r) {
            "aws_cloudwatch_log_group" => {
                if let Some(g) = live.log_groups.get(s(r, "name"))
                    && g.retention_days.is_none()
                {
                    let gb = g.stored_bytes.unwrap_or(0) as f64 / 1e9;
                    out.push(Opportunity {
                        resource: address,
                        what: "Set a retention period on the log group (retention_in_days = 30)".into(),
                        evidence: format!("{} keeps its logs forever and stores {gb:.2} GB; storage grows every month", g.name),
                        monthly_saving: Some(cents(gb * LOG_STORAGE_GB_MONTH)),
                    });
                }
            }
            "aws_s3_bucket" => {
                if let Some(b) = live.buckets.get(s(r, "bucket"))
                    && b.exists
                    && b.lifecycle_rules == Some(0)
                {
                    out.push(Opportunity {
                        resource: address,
                        what: "Add lifecycle rules to the bucket (expire old versions, move cold objects to Intelligent-Tiering or Glacier)".into(),
                        evidence: format!(
                            "{} has no lifecycle rules, so every object and version is kept in Standard storage; the saving depends on its size (not read)",
                            s(r, "bucket")
                        ),
                        monthly_saving: None,
                    });
                }
            }
            "aws_dynamodb_table" if s(r, "billing_mode") == "PROVISIONED" => {
                let rcu = r.pointer("/values/read_capacity").and_then(Value::as_f64).unwrap_or(0.0);
                let wcu = r.pointer("/values/write_capacity").and_then(Value::as_f64).unwrap_or(0.0);
                let table = &PriceTable::embedded().prices.dynamodb;
                let monthly = (rcu * table.rcu_hour + wcu * table.wcu_hour) * 730.0;
                out.push(Opportunity {
                    resource: address,
                    what: "Check the table's consumed capacity; if it is mostly idle, switch to billing_mode = \"PAY_PER_REQUEST\"".into(),
                    evidence: format!("provisioned {rcu} RCU and {wcu} WCU cost {monthly:.2} a month whether used or not"),
                    monthly_saving: None,
                });
            }
            _ => {}
        }
    }
    for v in live.volumes.iter().filter(|v| v.state.as_deref() == Some("available")) {
        let gb = f64::from(v.size_gb.unwrap_or(0));
        out.push(Opportunity {
            resource: v.id.clone(),
            what: "Delete the unattached EBS volume (snapshot it first if its data matters)".into(),
            evidence: format!("{} ({gb} GB) is attached to nothing", v.id),
            monthly_saving: Some(cents(gb * EBS_GB_MONTH)),
        });
    }
    for snap in &live.snapshots {
        let age = snap.created.as_deref().and_then(|c| DateTime::parse_from_rfc3339(c).ok()).map(|c| (now - c.with_timezone(&Utc)).num_days());
        if age.is_some_and(|a| a > OLD_SNAPSHOT_DAYS) {
            let gb = f64::from(snap.size_gb.unwrap_or(0));
            out.push(Opportunity {
                resource: snap.id.clone(),
                what: "Delete the old snapshot, or keep snapshots with an AWS Backup / Data Lifecycle Manager policy".into(),
                evidence: format!("{} is {} days old ({gb} GB)", snap.id, age.unwrap_or(0)),
                monthly_saving: Some(cents(gb * SNAPSHOT_GB_MONTH)),
            });
        }
    }
    for n in live.nat_gateways.iter().filter(|n| n.state.as_deref() == Some("available")) {
        out.push(Opportunity {
            resource: n.id.clone(),
            what: "Check the NAT gateway's traffic; with little of it, use VPC endpoints or one shared NAT gateway".into(),
            evidence: format!("{} costs {NAT_MONTH:.2} a month in hourly charges before any data", n.id),
            monthly_saving: None,
        });
    }
    out
}

/// Over-provisioned Lambda memory from the last week's REPORT lines (as analyze-performance reads them).
async fn lambda_memory(cloud: &Cloud, state: &[Value], now: DateTime<Utc>) -> (Vec<Opportunity>, u32, Vec<String>) {
    let (mut out, mut calls, mut notes) = (Vec::new(), 0, Vec::new());
    let start = now - chrono::Duration::days(7);
    for r in state.iter().filter(|r| super::overlay::kind(r) == "aws_lambda_function") {
        let name = r.pointer("/values/function_name").and_then(Value::as_str).unwrap_or_default();
        let group = format!("/aws/lambda/{name}");
        match crate::cloud::logs::filter_all(cloud, &group, "REPORT", start, now, 2000, &mut calls).await {
            Ok((events, _, _)) => {
                let reports: Vec<_> = events.iter().filter_map(|e| crate::ops::stats::parse_report(&e.message)).collect();
                if let Some(advice) = crate::ops::stats::memory_advice(&reports, 24.0 * 7.0)
                    && advice.recommended_mb < advice.configured_mb
                {
                    out.push(Opportunity {
                        resource: r.get("address").and_then(Value::as_str).unwrap_or_default().to_string(),
                        what: format!("Lower the function's memory_size from {} to {} MB", advice.configured_mb, advice.recommended_mb),
                        evidence: format!(
                            "{name}: peak memory used {} MB (p95 {} MB) of {} MB over {} invocation(s) in 7 days",
                            advice.peak_used_mb,
                            advice.p95_used_mb,
                            advice.configured_mb,
                            reports.len()
                        ),
                        monthly_saving: Some(cents(advice.monthly_saving_usd)),
                    });
                }
            }
            Err(e) => notes.push(format!("{name}: no memory figures ({e})")),
        }
    }
    (out, calls, notes)
}

impl CostAudit {
    pub fn text(&self) -> String {
        let money = |x: Option<f64>| x.map_or("n/a".to_string(), |v| format!("{v:.2} {}", self.currency));
        let mut out = format!(
            "Cost: month to date {}, last month {}, forecast this month {}.",
            money(self.month_to_date),
            money(self.last_month),
            money(self.forecast_this_month)
        );
        if let Some((d, p)) = self.change_vs_last_month {
            out.push_str(&format!(" Against last month's pace: {d:+.2} ({p:+.1}%)."));
        }
        if !self.top_drivers.is_empty() {
            let d: Vec<String> = self.top_drivers.iter().map(|d| format!("{} {:.2} ({:.0}%)", d.service, d.amount, d.share * 100.0)).collect();
            out.push_str(&format!("\nTop drivers: {}.", d.join(", ")));
        }
        out.push_str(&format!("\nEstimate: {}.", self.estimate_vs_actual));
        for o in &self.opportunities {
            let saving = match o.monthly_saving {
                None => "saving not measured".to_string(),
                Some(s) if s < 0.01 => "saves under 0.01/month at the observed traffic".to_string(),
                Some(s) => format!("saves ~{s:.2}/month"),
            };
            out.push_str(&format!("\n- {}: {} ({saving}) — {}", o.resource, o.what, o.evidence));
        }
        if !self.opportunities.is_empty() {
            out.push_str(&format!("\nPotential saving: {:.2} {} a month (measured ones only).", self.potential_monthly_saving, self.currency));
        }
        for n in &self.notes {
            out.push_str(&format!("\nCost note: {n}"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn period(start: &str, end: &str, groups: &[(&str, f64)]) -> Period {
        Period {
            start: start.into(),
            end: end.into(),
            estimated: false,
            total: groups.iter().map(|g| g.1).sum(),
            unit: "USD".into(),
            groups: groups.iter().map(|(s, a)| (s.to_string(), *a)).collect(),
        }
    }

    #[test]
    fn totals_change_and_drivers_to_the_cent() {
        let months = vec![
            period("2026-11-01", "2026-12-01", &[("AWS Lambda", 12.345), ("Amazon Simple Storage Service", 30.0), ("AmazonCloudWatch", 2.5)]),
            period("2026-12-01", "2026-12-08", &[("AWS Lambda", 4.0), ("Amazon Simple Storage Service", 8.0)]),
        ];
        let a = analyse(&months, NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(), 40.0);
        assert_eq!(a.month_to_date, Some(12.0));
        assert_eq!(a.last_month, Some(44.85));
        assert_eq!(a.top_drivers[0].service, "Amazon Simple Storage Service");
        assert_eq!(a.top_drivers[0].amount, 30.0);
        assert_eq!(a.top_drivers[1].amount, 12.35);
        // 44.845 over 30 days, 7 days in: 10.46; 12 - 10.46 = 1.54.
        let (d, p) = a.change_vs_last_month.unwrap();
        assert!((d - 1.54).abs() < 0.006, "{d}");
        assert!(p > 14.0 && p < 15.0, "{p}");
        assert!(a.estimate_vs_actual.contains("44.85"), "{}", a.estimate_vs_actual);
    }

    #[test]
    fn months_cross_the_year() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(first_of_month_back(d(2026, 1, 15), 3), d(2025, 10, 1));
        assert_eq!(first_of_month_back(d(2026, 3, 31), 0), d(2026, 3, 1));
        assert_eq!(cost::first_of_next_month(d(2026, 12, 7)), d(2027, 1, 1));
    }

    #[test]
    fn no_spend_is_said_not_invented() {
        let a = analyse(&[], NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(), 3.0);
        assert_eq!(a.month_to_date, None);
        assert!(a.estimate_vs_actual.contains("no actual spend"));
    }
}
