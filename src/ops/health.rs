//! check-health: per service, the metrics AWS recommends alarming on, judged
//! against fixed thresholds and against the service's own baseline (robust
//! statistics; same hour of day when there is a week of history), plus the
//! state of its CloudWatch alarms. HEALTHY / DEGRADED / UNHEALTHY per service
//! with the reasons; the worst is the environment's. Report at
//! `monitoring/{env}/{ts}-health.json`.
//!
//! AWS calls are batched: one `GetMetricData` for the recent window and one
//! for the history carry every metric of every service (500 queries a call),
//! one more tries the p90 of Lambda durations (backends may refuse it), and
//! one `DescribeAlarms` reads every alarm.

use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::cloud::Cloud;
use crate::cloud::metrics::{self, AlarmState, MetricQuery, Series};
use crate::config::Config;
use crate::error::Error;
use crate::ops::catalog;
use crate::ops::services::{self, Kind, Service};
use crate::ops::stats;
use crate::vocabulary::Report;
use crate::workspace::Workspace;

/// How recent "now" is: the last 15 minutes, in 5-minute periods.
pub const RECENT_MINUTES: i64 = 15;
/// How far back the baseline looks, in 1-hour periods.
pub const HISTORY_DAYS: i64 = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Healthy,
    /// Nothing to judge by: no datapoints (no traffic, or no metrics yet). Never read as healthy.
    NoData,
    Degraded,
    Unhealthy,
}

/// One reason for a status.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Reason {
    pub status: Status,
    pub metric: String,
    pub value: Option<f64>,
    /// The fixed threshold crossed, or the baseline it was compared with.
    pub against: String,
    pub detail: String,
}

/// One metric's recent value and what it was compared with.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Reading {
    pub metric: String,
    pub stat: String,
    pub value: Option<f64>,
    pub baseline: Option<stats::Baseline>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ServiceHealth {
    pub service: String,
    /// Its region, in an environment deployed to several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub kind: Kind,
    pub resource: String,
    pub status: Status,
    pub reasons: Vec<Reason>,
    pub readings: Vec<Reading>,
    pub alarms: Vec<AlarmState>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct HealthReport {
    /// The AWS identity the calls were made as (STS caller ARN), when STS named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    pub env: String,
    pub timestamp: String,
    pub overall: Status,
    pub services: Vec<ServiceHealth>,
    /// Statistics the backend refused and what was used instead.
    pub fallbacks: Vec<String>,
    pub aws_calls: u32,
    pub wall_ms: u128,
    pub report_path: PathBuf,
}

fn qid(i: usize, j: usize, recent: bool) -> String {
    format!("{}{i}_{j}", if recent { "r" } else { "h" })
}

/// What the numbers say about one service (pure): fixed thresholds, then anomalies against the baseline.
pub fn judge(service: &Service, recent: &Series, history: &Series, p90: Option<&Series>, i: usize, now: DateTime<Utc>) -> (Vec<Reading>, Vec<Reason>) {
    let mut readings = Vec::new();
    let mut reasons = Vec::new();
    let mut values = std::collections::HashMap::new();
    for (j, spec) in catalog::metrics(service.kind, catalog::HEALTH).enumerate() {
        let points = recent.get(&qid(i, j, true)).map(Vec::as_slice).unwrap_or_default();
        let value = if points.is_empty() {
            None
        } else if spec.stat == "Average" {
            Some(points.iter().map(|p| p.1).sum::<f64>() / points.len() as f64)
        } else if spec.stat == "Minimum" {
            points.iter().map(|p| p.1).reduce(f64::min)
        } else {
            points.iter().map(|p| p.1).reduce(f64::max)
        };
        // History comes in 1-hour periods: a Sum is brought to 5 minutes to compare like with like.
        let scale = if spec.stat == "Sum" { 12.0 } else { 1.0 };
        let hist: Vec<stats::Point> = history.get(&qid(i, j, false)).map(|h| h.iter().map(|(t, v)| (*t, v / scale)).collect()).unwrap_or_default();
        let baseline = stats::baseline(&hist, now);
        if let Some(v) = value
            && let Some(a) = stats::anomaly(&hist, now, v, spec.min_abs, false)
        {
            let status = if spec.key == "errors" || spec.key == "5xx" || a.ratio >= 10.0 { Status::Unhealthy } else { Status::Degraded };
            reasons.push(Reason {
                status,
                metric: format!("{} {}", spec.metric, spec.stat),
                value: Some(v),
                against: format!("{:?} baseline median {:.2} (MAD {:.2}, {} samples)", a.baseline.kind, a.baseline.median, a.baseline.mad, a.baseline.samples),
                detail: format!("{:.1}× normal (robust z {:.1})", a.ratio, a.score),
            });
        }
        values.insert(spec.key, value);
        readings.push(Reading { metric: spec.metric.into(), stat: spec.stat.into(), value, baseline });
    }
    let v = |k: &str| values.get(k).copied().flatten();
    let mut fixed = |status: Status, metric: &str, value: f64, against: String, detail: String| {
        // A fixed threshold and an anomaly on the same metric: keep the worse, once.
        if let Some(r) = reasons.iter_mut().find(|r| r.metric.starts_with(metric)) {
            if status > r.status {
                r.status = status;
            }
            r.detail = format!("{}; {detail}", r.detail);
            return;
        }
        reasons.push(Reason { status, metric: metric.into(), value: Some(value), against, detail });
    };
    match service.kind {
        Kind::Lambda => {
            let invocations = v("invocations").unwrap_or(0.0);
            if let Some(errors) = v("errors").filter(|e| *e > 0.0) {
                let rate = if invocations > 0.0 { errors / invocations } else { 1.0 };
                let status = if rate >= 0.05 {
                    Status::Unhealthy
                } else if rate >= 0.01 {
                    Status::Degraded
                } else {
                    Status::Healthy
                };
                if status > Status::Healthy {
                    fixed(
                        status,
                        "Errors",
                        errors,
                        "error rate 1% degraded, 5% unhealthy".into(),
                        format!("error rate {:.1}% ({errors} of {invocations} invocations)", rate * 100.0),
                    );
                }
            }
            if let Some(t) = v("throttles").filter(|t| *t > 0.0) {
                fixed(Status::Degraded, "Throttles", t, "any throttle".into(), format!("{t} throttled invocations"));
            }
            let p90v = p90.and_then(|s| s.get(&qid(i, 0, true))).and_then(|pts| pts.iter().map(|p| p.1).reduce(f64::max));
            let (dur, which) = match p90v {
                Some(p) => (Some(p), "p90"),
                None => (v("duration_max"), "Maximum"),
            };
            if let (Some(d), Some(timeout)) = (dur, service.timeout_secs) {
                let share = d / (timeout * 1000.0);
                if share >= 0.8 {
                    let status = if share >= 0.95 { Status::Unhealthy } else { Status::Degraded };
                    fixed(
                        status,
                        "Duration",
                        d,
                        format!("80% of the {timeout}s timeout"),
                        format!("{which} duration {d:.0} ms is {:.0}% of the timeout", share * 100.0),
                    );
                }
            }
        }
        Kind::HttpApi | Kind::RestApi => {
            let count = v("count").unwrap_or(0.0);
            if let Some(e) = v("5xx").filter(|e| *e > 0.0) {
                let rate = if count > 0.0 { e / count } else { 1.0 };
                let status = if rate >= 0.05 {
                    Status::Unhealthy
                } else if rate >= 0.01 {
                    Status::Degraded
                } else {
                    Status::Healthy
                };
                if status > Status::Healthy {
                    fixed(status, "5xx", e, "5xx rate 1% degraded, 5% unhealthy".into(), format!("5xx rate {:.1}%", rate * 100.0));
                }
            }
            if let Some(l) = v("latency").filter(|l| *l >= 1000.0) {
                fixed(
                    if l >= 5000.0 { Status::Unhealthy } else { Status::Degraded },
                    "Latency",
                    l,
                    "1 s degraded, 5 s unhealthy".into(),
                    format!("average latency {l:.0} ms"),
                );
            }
        }
        Kind::Sqs => {
            if let Some(age) = v("oldest_age").filter(|a| *a >= 300.0) {
                fixed(
                    if age >= 3600.0 { Status::Unhealthy } else { Status::Degraded },
                    "ApproximateAgeOfOldestMessage",
                    age,
                    "5 min degraded, 1 h unhealthy".into(),
                    format!("oldest message is {age:.0} s old"),
                );
            }
        }
        Kind::Dynamodb => {
            if let Some(t) = v("throttled").filter(|t| *t > 0.0) {
                fixed(Status::Degraded, "ThrottledRequests", t, "any throttled request".into(), format!("{t} throttled requests"));
            }
        }
        Kind::Rds => {
            if let Some(cpu) = v("cpu").filter(|c| *c >= 80.0) {
                fixed(
                    if cpu >= 95.0 { Status::Unhealthy } else { Status::Degraded },
                    "CPUUtilization",
                    cpu,
                    "80% degraded, 95% unhealthy".into(),
                    format!("CPU {cpu:.0}%"),
                );
            }
            if let Some(free) = v("free_storage").filter(|f| *f < 2e9) {
                fixed(
                    if free < 5e8 { Status::Unhealthy } else { Status::Degraded },
                    "FreeStorageSpace",
                    free,
                    "2 GB degraded, 0.5 GB unhealthy".into(),
                    format!("{:.2} GB free", free / 1e9),
                );
            }
        }
        Kind::EcsService => {
            for (key, metric) in [("cpu", "CPUUtilization"), ("memory", "MemoryUtilization")] {
                if let Some(x) = v(key).filter(|x| *x >= 85.0) {
                    fixed(
                        if x >= 95.0 { Status::Unhealthy } else { Status::Degraded },
                        metric,
                        x,
                        "85% degraded, 95% unhealthy".into(),
                        format!("{metric} {x:.0}%"),
                    );
                }
            }
        }
    }
    (readings, reasons)
}

/// Whether an alarm watches `service` (one of its dimensions names the service's resource).
fn watches(alarm: &AlarmState, service: &Service) -> bool {
    let dims = service.dimensions();
    alarm.dimensions.iter().any(|(k, v)| dims.iter().any(|(dk, dv)| dk == k && dv == v))
}

/// Every region of `env` (or `only` that one), each with its own clients; one report.
pub async fn run(ws: &Workspace, config: &Config, env: &str, service: Option<&str>, only: Option<&str>) -> Result<HealthReport, Error> {
    let started = Instant::now();
    let mut calls = 0u32;
    let base = Cloud::connect(config, env).await;
    let all_regions = config.regions(env);
    let multi = all_regions.len() > 1;
    let regions: Vec<String> = all_regions.into_iter().filter(|r| only.is_none_or(|o| o == r)).collect();
    let now = Utc::now();
    let mut out = Vec::new();
    let mut fallbacks = Vec::new();
    let mut unmatched = None;
    for region in &regions {
        let cloud = if multi { base.in_region(region).await } else { base.clone() };
        let all = services::resolve(&cloud, ws, config, env, &mut calls).await?;
        // A service named in one region only is still found: the others simply have none of it.
        let chosen = match services::select(&all, service) {
            Ok(c) => c,
            Err(e) if multi => {
                unmatched.get_or_insert(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        let (mut services, notes) = region_health(&cloud, &chosen, now, &mut calls).await?;
        if multi {
            for s in &mut services {
                s.region = Some(region.clone());
            }
            fallbacks.extend(notes.into_iter().map(|n| format!("{region}: {n}")));
        } else {
            fallbacks.extend(notes);
        }
        out.extend(services);
    }
    if out.is_empty()
        && let Some(e) = unmatched
    {
        return Err(e);
    }
    let overall = out.iter().map(|s| s.status).max().unwrap_or(Status::Healthy);
    let report_path = ws.path(&format!("monitoring/{env}/{}-health.json", now.format("%Y%m%dT%H%M%SZ")))?;
    let identity = base.caller().await.ok().map(|c| c.arn);
    let report = HealthReport {
        identity,
        env: env.into(),
        timestamp: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        overall,
        services: out,
        fallbacks,
        aws_calls: calls,
        wall_ms: started.elapsed().as_millis(),
        report_path: report_path.clone(),
    };
    ws.write_json(&report_path, &report)?;
    Ok(report)
}

/// The health of `chosen` services of one region, and the statistics the backend refused.
async fn region_health(cloud: &Cloud, chosen: &[Service], now: DateTime<Utc>, calls: &mut u32) -> Result<(Vec<ServiceHealth>, Vec<String>), Error> {
    let recent_start = now - Duration::minutes(RECENT_MINUTES);
    let mut recent_q = Vec::new();
    let mut history_q = Vec::new();
    let mut p90_q = Vec::new();
    for (i, s) in chosen.iter().enumerate() {
        for (j, spec) in catalog::metrics(s.kind, catalog::HEALTH).enumerate() {
            let q = |recent: bool| MetricQuery {
                id: qid(i, j, recent),
                namespace: spec.namespace.into(),
                metric: spec.metric.into(),
                dimensions: s.dimensions(),
                stat: spec.stat.into(),
                period_secs: if recent { 300 } else { 3600 },
            };
            recent_q.push(q(true));
            history_q.push(q(false));
        }
        if s.kind == Kind::Lambda {
            p90_q.push(MetricQuery {
                id: qid(i, 0, true),
                namespace: "AWS/Lambda".into(),
                metric: "Duration".into(),
                dimensions: s.dimensions(),
                stat: "p90".into(),
                period_secs: 300,
            });
        }
    }
    let recent = metrics::get(cloud, &recent_q, recent_start, now, calls).await?;
    let history = metrics::get(cloud, &history_q, now - Duration::days(HISTORY_DAYS), recent_start, calls).await?;
    let mut fallbacks = Vec::new();
    let p90 = if p90_q.is_empty() {
        None
    } else {
        match metrics::get(cloud, &p90_q, recent_start, now, calls).await {
            Ok(s) => Some(s),
            Err(e) => {
                fallbacks.push(format!(
                    "the backend refused the p90 statistic of Lambda Duration ({}); Maximum was used instead",
                    e.to_string().chars().take(160).collect::<String>()
                ));
                None
            }
        }
    };
    let alarms = metrics::alarms(cloud, calls).await?;
    let mut out = Vec::new();
    for (i, s) in chosen.iter().enumerate() {
        let (readings, mut reasons) = judge(s, &recent, &history, p90.as_ref(), i, now);
        let mine: Vec<AlarmState> = alarms.iter().filter(|a| watches(a, s)).cloned().collect();
        for a in mine.iter().filter(|a| a.state == "ALARM") {
            reasons.push(Reason {
                status: Status::Unhealthy,
                metric: a.metric.clone(),
                value: None,
                against: format!("alarm {}", a.name),
                detail: format!("in ALARM: {}", a.reason),
            });
        }
        if readings.iter().all(|r| r.value.is_none()) {
            reasons.push(Reason {
                status: Status::NoData,
                metric: "-".into(),
                value: None,
                against: "-".into(),
                detail: format!("no datapoints in the last {RECENT_MINUTES} minutes (no traffic, or no metrics yet): nothing says it is healthy or not"),
            });
        }
        let status = reasons.iter().map(|r| r.status).max().unwrap_or(Status::Healthy);
        out.push(ServiceHealth { service: s.name.clone(), region: None, kind: s.kind, resource: s.resource.clone(), status, reasons, readings, alarms: mine });
    }
    Ok((out, fallbacks))
}

/// A few lines for people.
impl Report for HealthReport {
    fn text(&self) -> String {
        let r = self;
        let mut seen: Vec<&str> = Vec::new();
        for region in r.services.iter().filter_map(|s| s.region.as_deref()) {
            if !seen.contains(&region) {
                seen.push(region);
            }
        }
        let regions = if seen.is_empty() { String::new() } else { format!(" ({})", seen.join(", ")) };
        let mut out = format!("{:?} — {} service(s) in {}{regions} ({} AWS calls, {} ms).", r.overall, r.services.len(), r.env, r.aws_calls, r.wall_ms);
        for s in r.services.iter().take(30) {
            let why: Vec<String> = s.reasons.iter().filter(|x| x.status > Status::Healthy).map(|x| format!("{}: {}", x.metric, x.detail)).collect();
            out.push_str(&format!(
                "\n- {}{} ({}): {:?}{}",
                s.service,
                s.region.as_deref().map(|r| format!(" in {r}")).unwrap_or_default(),
                s.kind.as_str(),
                s.status,
                if why.is_empty() { String::new() } else { format!(" — {}", why.join("; ")) }
            ));
        }
        if let Some(more) = crate::vocabulary::report::more(30, r.services.len(), "service(s)") {
            out.push_str(&format!("\n{more}"));
        }
        for f in &r.fallbacks {
            out.push_str(&format!("\nNote: {f}"));
        }
        out.push_str(&format!("\nReport: {}", r.report_path.display()));
        out
    }
}
