//! analyze-performance: per Lambda function over a timeframe (default 24h):
//! invocations, errors, throttles, concurrency, duration (average, maximum,
//! p50/p90/p99 where the backend computes them), the trend of duration and
//! traffic (direction and strength), cold starts and memory used vs
//! configured from the `REPORT` log lines, and concrete recommendations
//! (memory right-sizing with the expected saving). Other kinds get their
//! health metrics over the window and their trends.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::cloud::Cloud;
use crate::cloud::metrics::{self, MetricQuery};
use crate::cloud::{logs, runtime};
use crate::config::Config;
use crate::error::Error;
use crate::ops::services::{self, Kind, Service};
use crate::ops::{catalog, logs as query, stats};
use crate::vocabulary::Report;
use crate::workspace::Workspace;

/// REPORT lines read per function at most.
pub const MAX_REPORTS: usize = 10_000;

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct MetricSummary {
    pub metric: String,
    pub stat: String,
    /// Sum over the window for counts; mean of the periods for averages; max for maxima.
    pub value: Option<f64>,
    pub trend: Option<stats::Trend>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ColdStarts {
    pub invocations_seen: usize,
    pub cold_starts: usize,
    pub share: f64,
    pub mean_init_ms: Option<f64>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ServicePerformance {
    pub service: String,
    pub kind: Kind,
    pub resource: String,
    pub metrics: Vec<MetricSummary>,
    /// p50 / p90 / p99 of duration, when the backend computes percentiles.
    pub percentiles: Vec<(String, f64)>,
    pub cold_starts: Option<ColdStarts>,
    pub memory: Option<stats::MemoryAdvice>,
    pub recommendations: Vec<String>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct PerformanceReport {
    /// The AWS identity the calls were made as (STS caller ARN), when STS named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    pub env: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub period_secs: i32,
    pub services: Vec<ServicePerformance>,
    pub notes: Vec<String>,
    pub aws_calls: u32,
}

/// A period giving at most ~300 points over the window, in whole minutes.
pub fn period_for(start: DateTime<Utc>, end: DateTime<Utc>) -> i32 {
    let secs = (end - start).num_seconds().max(60);
    (((secs / 300) + 59) / 60 * 60).clamp(60, 86_400) as i32
}

pub async fn run(
    ws: &Workspace,
    config: &Config,
    env: &str,
    service: Option<&str>,
    timeframe: Option<&crate::vocabulary::Timeframe>,
) -> Result<PerformanceReport, Error> {
    let mut calls = 0;
    let cloud = Cloud::connect(config, env).await;
    let all = services::resolve(&cloud, ws, config, env, &mut calls).await?;
    let chosen: Vec<Service> = services::select(&all, service)?;
    let (start, end) = query::window(timeframe, crate::vocabulary::Timeframe::hours(24), Utc::now());
    let period = period_for(start, end);
    let mut queries = Vec::new();
    for (i, s) in chosen.iter().enumerate() {
        for (j, d) in catalog::metrics(s.kind, catalog::PERFORMANCE).enumerate() {
            queries.push(MetricQuery {
                id: format!("m{i}_{j}"),
                namespace: d.namespace.into(),
                metric: d.metric.into(),
                dimensions: s.dimensions(),
                stat: d.stat.into(),
                period_secs: period,
            });
        }
    }
    let series = metrics::get(&cloud, &queries, start, end, &mut calls).await?;
    let mut notes = Vec::new();
    // Percentiles in one call of their own: a backend that refuses them must not cost the rest.
    let pct: Vec<MetricQuery> = chosen
        .iter()
        .enumerate()
        .filter(|(_, s)| s.kind == Kind::Lambda)
        .flat_map(|(i, s)| {
            ["p50", "p90", "p99"].into_iter().map(move |p| MetricQuery {
                id: format!("p{i}_{p}"),
                namespace: "AWS/Lambda".into(),
                metric: "Duration".into(),
                dimensions: s.dimensions(),
                stat: p.into(),
                period_secs: period,
            })
        })
        .collect();
    let pct_series = if pct.is_empty() {
        None
    } else {
        match metrics::get(&cloud, &pct, start, end, &mut calls).await {
            Ok(s) => Some(s),
            Err(e) => {
                notes.push(format!(
                    "the backend refused duration percentiles ({}); average and maximum are shown instead",
                    e.to_string().chars().take(160).collect::<String>()
                ));
                None
            }
        }
    };
    let hours = (end - start).num_seconds() as f64 / 3600.0;
    let mut out = Vec::new();
    for (i, s) in chosen.iter().enumerate() {
        let mut metrics_out = Vec::new();
        for (j, d) in catalog::metrics(s.kind, catalog::PERFORMANCE).enumerate() {
            let (metric, stat) = (d.metric, d.stat);
            let points = series.get(&format!("m{i}_{j}")).cloned().unwrap_or_default();
            let values: Vec<f64> = points.iter().map(|p| p.1).collect();
            let value = match stat {
                "Sum" => (!values.is_empty()).then(|| values.iter().sum()),
                "Average" => (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64),
                _ => values.iter().copied().reduce(f64::max),
            };
            metrics_out.push(MetricSummary { metric: metric.into(), stat: stat.into(), value, trend: stats::trend(&points) });
        }
        let mut percentiles = Vec::new();
        if let Some(ps) = &pct_series {
            for p in ["p50", "p90", "p99"] {
                if let Some(v) = ps.get(&format!("p{i}_{p}")).and_then(|pts| pts.iter().map(|x| x.1).reduce(f64::max)) {
                    percentiles.push((p.to_string(), v));
                }
            }
        }
        let mut recommendations = Vec::new();
        let (mut cold, mut memory) = (None, None);
        if s.kind == Kind::Lambda {
            let mut reports = Vec::new();
            for g in &s.log_groups {
                let (events, truncated, _) = logs::filter_all(&cloud, g, "REPORT", start, end, MAX_REPORTS, &mut calls).await?;
                if truncated {
                    notes.push(format!("{g}: only the first {MAX_REPORTS} REPORT lines were read"));
                }
                reports.extend(events.iter().filter_map(|e| stats::parse_report(&e.message)));
            }
            if !reports.is_empty() {
                let cold_n = reports.iter().filter(|r| r.init_duration_ms.is_some()).count();
                let inits: Vec<f64> = reports.iter().filter_map(|r| r.init_duration_ms).collect();
                let share = cold_n as f64 / reports.len() as f64;
                cold = Some(ColdStarts {
                    invocations_seen: reports.len(),
                    cold_starts: cold_n,
                    share,
                    mean_init_ms: (!inits.is_empty()).then(|| inits.iter().sum::<f64>() / inits.len() as f64),
                });
                if share > 0.1 {
                    recommendations.push(format!("{:.0}% of invocations are cold starts: consider provisioned concurrency for steady traffic, or a smaller package / lazy imports to cut the init time", share * 100.0));
                }
                memory = stats::memory_advice(&reports, hours);
                if let Some(m) = &memory
                    && m.recommended_mb != m.configured_mb
                {
                    recommendations.push(m.reason.clone());
                }
            } else {
                notes.push(format!("{}: no REPORT lines in the window, so no cold-start or memory figures", s.name));
            }
            let v = |metric: &str, stat: &str| metrics_out.iter().find(|m| m.metric == metric && m.stat == stat).and_then(|m| m.value);
            if v("Throttles", "Sum").is_some_and(|t| t > 0.0) {
                recommendations
                    .push("Throttled invocations: raise the reserved concurrency (remediate --action scale) or the account's concurrency quota".into());
            }
            if let (Some(errors), Some(inv)) = (v("Errors", "Sum"), v("Invocations", "Sum"))
                && inv > 0.0
                && errors / inv >= 0.01
            {
                recommendations.push(format!("Error rate {:.1}%: run investigate for the error patterns", errors / inv * 100.0));
            }
            let timeout = match s.timeout_secs {
                Some(t) => Some(t),
                None => runtime::lambda_facts(&cloud, &s.resource, &mut calls).await.ok().map(|f| f64::from(f.timeout_secs)),
            };
            if let (Some(max), Some(t)) = (v("Duration", "Maximum"), timeout)
                && max >= 0.8 * t * 1000.0
            {
                recommendations
                    .push(format!("Maximum duration {max:.0} ms is {:.0}% of the {t}s timeout: find the slow path, or raise the timeout", max / (t * 10.0)));
            }
            if let Some(tr) = metrics_out.iter().find(|m| m.metric == "Duration" && m.stat == "Average").and_then(|m| m.trend.as_ref())
                && tr.direction == "rising"
                && tr.strength != "weak"
            {
                recommendations.push(format!(
                    "Duration is rising ({} trend, {:+.0}% over the window): compare with recent deploys",
                    tr.strength,
                    tr.relative_change * 100.0
                ));
            }
        }
        out.push(ServicePerformance {
            service: s.name.clone(),
            kind: s.kind,
            resource: s.resource.clone(),
            metrics: metrics_out,
            percentiles,
            cold_starts: cold,
            memory,
            recommendations,
        });
    }
    let identity = cloud.caller().await.ok().map(|c| c.arn);
    Ok(PerformanceReport { identity, env: env.into(), start, end, period_secs: period, services: out, notes, aws_calls: calls })
}

impl Report for PerformanceReport {
    fn text(&self) -> String {
        let r = self;
        let mut out = format!(
            "Performance in {} from {} to {} ({} s periods, {} AWS calls).",
            r.env,
            r.start.format("%Y-%m-%d %H:%M"),
            r.end.format("%Y-%m-%d %H:%M"),
            r.period_secs,
            r.aws_calls
        );
        for s in r.services.iter().take(20) {
            let figures: Vec<String> = s
                .metrics
                .iter()
                .filter_map(|m| {
                    m.value.map(|v| {
                        format!(
                            "{} {} {:.1}{}",
                            m.metric,
                            m.stat,
                            v,
                            m.trend.as_ref().map(|t| format!(" ({} {})", t.direction, t.strength)).unwrap_or_default()
                        )
                    })
                })
                .collect();
            out.push_str(&format!("\n- {} ({}): {}", s.service, s.kind.as_str(), if figures.is_empty() { "no datapoints".into() } else { figures.join(", ") }));
            if let Some(c) = &s.cold_starts {
                out.push_str(&format!("; cold starts {} of {} ({:.0}%)", c.cold_starts, c.invocations_seen, c.share * 100.0));
            }
            for rec in &s.recommendations {
                out.push_str(&format!("\n  → {rec}"));
            }
        }
        if let Some(more) = crate::vocabulary::report::more(20, r.services.len(), "service(s)") {
            out.push_str(&format!("\n{more}"));
        }
        for n in &r.notes {
            out.push_str(&format!("\nNote: {n}"));
        }
        out
    }
}
