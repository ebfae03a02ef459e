//! investigate: what happened to a service (or all of them) in a window
//! (default 24h), and why.
//!
//! - Timeline: metric anomalies (each series against its own earlier points),
//!   alarm state changes, deployments and remediations (audit trail), and
//!   bursts of error logs, in time order.
//! - Error patterns: the error events mined into templates (`patterns.rs`),
//!   with counts, first/last seen and an example.
//! - Correlation: error bursts of different services within 5 minutes of each
//!   other, and which came first.
//! - Root-cause candidates, ranked with their evidence, the affected
//!   resources, and what to do. Written to `incidents/{env}/{ts}-incident.json`.

use std::path::PathBuf;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::cloud::Cloud;
use crate::cloud::logs::{self, Event};
use crate::cloud::metrics::{self, MetricQuery};
use crate::config::Config;
use crate::error::Error;
use crate::ops::services::{self, Service};
use crate::ops::{catalog, logs as query, patterns, stats};
use crate::vocabulary::Report;
use crate::vocabulary::report::more;
use crate::workspace::Workspace;

/// Log events read per group at most.
pub const MAX_EVENTS: usize = 10_000;
/// Bursts of different services this close are correlated.
pub const CORRELATION_WINDOW_SECS: i64 = 300;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    /// anomaly, alarm, deployment, remediation, error-burst.
    pub kind: &'static str,
    pub service: Option<String>,
    pub what: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Pattern {
    pub template: String,
    pub count: u64,
    pub services: Vec<String>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub example: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Candidate {
    pub cause: String,
    /// 0–1, for ranking; not a probability.
    pub score: f64,
    pub evidence: Vec<String>,
    pub affected: Vec<String>,
    pub recommendation: String,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct IncidentReport {
    /// The AWS identity the calls were made as (STS caller ARN), when STS named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    pub env: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub services: Vec<String>,
    pub error_events: usize,
    pub timeline: Vec<TimelineEntry>,
    pub patterns: Vec<Pattern>,
    pub correlations: Vec<stats::Correlation>,
    pub root_causes: Vec<Candidate>,
    pub notes: Vec<String>,
    pub aws_calls: u32,
    pub report_path: PathBuf,
}

/// Whether a log line reports an error (pure).
pub fn is_error(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    if m.starts_with("report ") || m.starts_with("start ") || m.starts_with("end ") {
        return false;
    }
    ["error", "exception", "traceback", "fatal", "timed out", "timeout", "econnrefused", "connection refused", "5xx", "panic"].iter().any(|k| m.contains(k))
}

/// Words in a template that point at something the service depends on.
const DEPENDENCY_WORDS: &[&str] = &[
    "timeout",
    "timed out",
    "connection refused",
    "econnrefused",
    "database",
    "db ",
    "rds",
    "dynamodb",
    "throttl",
    "rate exceeded",
    "503",
    "service unavailable",
    "upstream",
    "socket",
];

/// Ranks root-cause candidates from what was found (pure).
pub fn rank(timeline: &[TimelineEntry], patterns: &[Pattern], correlations: &[stats::Correlation], total_errors: usize) -> Vec<Candidate> {
    let mut out = Vec::new();
    let first_problem = timeline.iter().find(|t| matches!(t.kind, "anomaly" | "error-burst" | "alarm"));
    // A dependency failing: timeouts, refused connections, throttling.
    for p in patterns.iter().take(10) {
        let low = p.template.to_ascii_lowercase();
        if let Some(word) = DEPENDENCY_WORDS.iter().find(|w| low.contains(*w)) {
            let share = if total_errors == 0 { 0.0 } else { p.count as f64 / total_errors as f64 };
            out.push(Candidate {
                cause: format!("a dependency is failing (\"{}\")", word.trim()),
                score: 0.5 + 0.4 * share,
                evidence: vec![format!("{} of {} error events match \"{}\" (first {}, last {})", p.count, total_errors, p.template, p.first_seen.format("%H:%M:%S"), p.last_seen.format("%H:%M:%S"))],
                affected: p.services.clone(),
                recommendation: "Check the dependency's health and limits (connections, throughput, quotas); add timeouts with retries and backoff; consider a circuit breaker".into(),
            });
            break;
        }
    }
    // A change shortly before the first problem.
    if let Some(first) = first_problem {
        for change in timeline.iter().filter(|t| matches!(t.kind, "deployment" | "remediation") && t.at <= first.at && first.at - t.at <= Duration::hours(2)) {
            out.push(Candidate {
                cause: format!("the {} at {}", change.kind, change.at.format("%Y-%m-%d %H:%M:%S")),
                score: 0.6 + if first.at - change.at <= Duration::minutes(30) { 0.2 } else { 0.0 },
                evidence: vec![
                    format!("{}: {}", change.kind, change.what),
                    format!("first problem {} min later: {}", (first.at - change.at).num_minutes(), first.what),
                ],
                affected: first.service.clone().into_iter().collect(),
                recommendation: if change.kind == "deployment" {
                    "Compare the change with the previous version; roll back (remediate --action rollback) if the errors started with it".into()
                } else {
                    "Check that the remediation had the intended effect".into()
                },
            });
        }
    }
    // The service where it started, when several are involved.
    if let Some(c) = correlations.first() {
        out.push(Candidate {
            cause: format!("errors start in {} and spread", c.first),
            score: 0.55,
            evidence: vec![format!("bursts in {} and {} are {} s apart; {} came first", c.a, c.b, c.lead_secs.abs(), c.first)],
            affected: vec![c.a.clone(), c.b.clone()],
            recommendation: format!("Investigate {} first; the other service may only be failing because of it", c.first),
        });
    }
    // Otherwise: the earliest anomaly, and the most frequent error.
    if let Some(first) = first_problem {
        out.push(Candidate {
            cause: format!("the earliest signal: {}", first.what),
            score: 0.4,
            evidence: vec![format!("{} at {}", first.kind, first.at.format("%Y-%m-%d %H:%M:%S"))],
            affected: first.service.clone().into_iter().collect(),
            recommendation: "Start from this signal: read the logs around it (query-logs with a narrow timeframe)".into(),
        });
    }
    if let Some(p) = patterns.first()
        && !out.iter().any(|c| c.evidence.iter().any(|e| e.contains(&p.template)))
    {
        out.push(Candidate {
            cause: format!("the most frequent error: \"{}\"", p.template),
            score: 0.3 + 0.3 * if total_errors == 0 { 0.0 } else { p.count as f64 / total_errors as f64 },
            evidence: vec![format!("{} occurrence(s), e.g. {}", p.count, p.example)],
            affected: p.services.clone(),
            recommendation: "Fix the code path that raises it, or handle the condition it reports".into(),
        });
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out
}

fn audit_changes(ws: &Workspace, env: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<TimelineEntry> {
    let text = std::fs::read_to_string(ws.root().join(crate::workspace::audit::FILE)).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        // A failed or interrupted apply may have changed part of the stack: it belongs on the timeline too.
        .filter(|v| v["env"] == env && matches!(v["outcome"].as_str(), Some("succeeded" | "failed" | "cancelled" | "unverified")))
        .filter_map(|v| {
            let at = v["timestamp"].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok())?.with_timezone(&Utc);
            let op = v["operation"].as_str()?;
            let kind = if op == "deploy" {
                "deployment"
            } else if op.starts_with("remediate") {
                "remediation"
            } else {
                return None;
            };
            let outcome = match v["outcome"].as_str() {
                Some("succeeded") => String::new(),
                Some(other) => format!(" ({other})"),
                None => String::new(),
            };
            (at >= start && at < end).then(|| TimelineEntry { at, kind, service: None, what: format!("{op}{outcome}: {}", v["detail"].as_str().unwrap_or("")) })
        })
        .collect()
}

pub async fn run(
    ws: &Workspace,
    config: &Config,
    env: &str,
    service: Option<&str>,
    timeframe: Option<&crate::vocabulary::Timeframe>,
) -> Result<IncidentReport, Error> {
    let mut calls = 0;
    let cloud = Cloud::connect(config, env).await;
    let all = services::resolve(&cloud, ws, config, env, &mut calls).await?;
    let chosen: Vec<Service> = services::select(&all, service)?;
    let now = Utc::now();
    let (start, end) = query::window(timeframe, crate::vocabulary::Timeframe::hours(24), now);
    let mut notes = Vec::new();
    let mut timeline = audit_changes(ws, env, start, end);

    // Error events and their bursts, per service.
    let mut errors: Vec<(String, Event)> = Vec::new();
    let mut burst_series = Vec::new();
    for s in &chosen {
        let mut mine = Vec::new();
        for g in &s.log_groups {
            let (events, truncated, missing) = logs::filter_all(&cloud, g, "", start, end, MAX_EVENTS, &mut calls).await?;
            if truncated {
                notes.push(format!("{g}: only the first {MAX_EVENTS} events of the window were read"));
            }
            if missing {
                notes.push(format!("{g}: the log group does not exist"));
            }
            mine.extend(events.into_iter().filter(|e| is_error(&e.message)));
        }
        let bursts = stats::bursts_within(&mine.iter().map(|e| e.at).collect::<Vec<_>>(), start, end, 60, 5);
        for b in &bursts {
            timeline.push(TimelineEntry {
                at: b.start,
                kind: "error-burst",
                service: Some(s.name.clone()),
                what: format!("{} error events in {} (peak {} a minute)", b.count, s.name, b.peak_per_bucket),
            });
        }
        burst_series.push((s.name.clone(), bursts));
        errors.extend(mine.into_iter().map(|e| (s.name.clone(), e)));
    }
    errors.sort_by_key(|(_, e)| e.at);

    // Templates of the error messages.
    let mined = patterns::mine_all(errors.iter().map(|(_, e)| e.message.replace(['\n', '\r'], " ")), patterns::MinerConfig::standard());
    let mut pats: Vec<Pattern> = mined
        .templates
        .iter()
        .map(|t| {
            let members: Vec<usize> = mined.lines.iter().enumerate().filter(|(_, id)| **id == t.id).map(|(i, _)| i).collect();
            let mut svcs: Vec<String> = members.iter().map(|i| errors[*i].0.clone()).collect();
            svcs.sort();
            svcs.dedup();
            Pattern {
                template: t.text.clone(),
                count: t.count,
                services: svcs,
                first_seen: errors[t.first_index].1.at,
                last_seen: errors[t.last_index].1.at,
                example: crate::redact::redact(&t.example.chars().take(300).collect::<String>()),
            }
        })
        .collect();
    pats.sort_by(|a, b| b.count.cmp(&a.count).then(a.first_seen.cmp(&b.first_seen)));
    pats.truncate(20);

    // Metric anomalies: each 5-minute point against the points before it.
    let period = query_period(start, end);
    let mut queries = Vec::new();
    let mut labels = Vec::new();
    for (i, s) in chosen.iter().enumerate() {
        for (j, d) in catalog::metrics(s.kind, catalog::INVESTIGATE).enumerate() {
            queries.push(MetricQuery {
                id: format!("a{i}_{j}"),
                namespace: d.namespace.into(),
                metric: d.metric.into(),
                dimensions: s.dimensions(),
                stat: d.stat.into(),
                period_secs: period,
            });
            labels.push((format!("a{i}_{j}"), s.name.clone(), format!("{} {}", d.metric, d.stat), d.min_abs));
        }
    }
    let series = metrics::get(&cloud, &queries, start, end, &mut calls).await?;
    for (id, svc, label, min_abs) in &labels {
        let points = series.get(id).cloned().unwrap_or_default();
        // The first anomalous point, and the peak of the anomaly.
        if let Some((k, a)) = points.iter().enumerate().skip(6).find_map(|(k, p)| stats::anomaly(&points[..k], p.0, p.1, *min_abs, false).map(|a| (k, a))) {
            timeline.push(TimelineEntry {
                at: points[k].0,
                kind: "anomaly",
                service: Some(svc.clone()),
                what: format!("{label} of {svc} at {:.1}, {:.1}× its baseline {:.1}", a.value, a.ratio, a.baseline.median),
            });
        }
    }

    // Alarm state changes of the alarms that watch these services.
    let alarms = metrics::alarms(&cloud, &mut calls).await?;
    let watching: Vec<String> = alarms
        .iter()
        .filter(|a| chosen.iter().any(|s| s.dimensions().iter().any(|(k, v)| a.dimensions.iter().any(|(ak, av)| ak == k && av == v))))
        .map(|a| a.name.clone())
        .collect();
    match metrics::alarm_history(&cloud, &watching, start, end, &mut calls).await {
        Ok(changes) => {
            for change in changes {
                timeline.push(TimelineEntry { at: change.at, kind: "alarm", service: None, what: format!("{}: {}", change.alarm, change.summary) });
            }
        }
        // A backend without alarm history (moto) must not cost the rest of the investigation.
        Err(e) => notes.push(format!(
            "alarm history not available ({}); alarm state changes are missing from the timeline",
            e.to_string().chars().take(200).collect::<String>()
        )),
    }
    timeline.sort_by_key(|t| t.at);

    let correlations = stats::correlate(&burst_series, CORRELATION_WINDOW_SECS);
    let root_causes = rank(&timeline, &pats, &correlations, errors.len());
    let report_path = ws.path(&format!("incidents/{env}/{}-incident.json", now.format("%Y%m%dT%H%M%SZ")))?;
    let identity = cloud.caller().await.ok().map(|c| c.arn);
    let report = IncidentReport {
        identity,
        env: env.into(),
        start,
        end,
        services: chosen.iter().map(|s| format!("{} ({})", s.name, s.kind.as_str())).collect(),
        error_events: errors.len(),
        timeline,
        patterns: pats,
        correlations,
        root_causes,
        notes,
        aws_calls: calls,
        report_path: report_path.clone(),
    };
    ws.write_json(&report_path, &report)?;
    Ok(report)
}

fn query_period(start: DateTime<Utc>, end: DateTime<Utc>) -> i32 {
    crate::ops::performance::period_for(start, end).max(300)
}

impl Report for IncidentReport {
    fn text(&self) -> String {
        let r = self;
        let mut out = format!(
            "Investigated {} in {} ({} → {}): {} error event(s), {} pattern(s), {} timeline entries.",
            r.services.join(", "),
            r.env,
            r.start.format("%m-%d %H:%M"),
            r.end.format("%m-%d %H:%M"),
            r.error_events,
            r.patterns.len(),
            r.timeline.len()
        );
        if !r.root_causes.is_empty() {
            out.push_str("\nRoot-cause candidates:");
            for (i, c) in r.root_causes.iter().take(3).enumerate() {
                out.push_str(&format!("\n{}. {} (score {:.2}) — {}\n   → {}", i + 1, c.cause, c.score, c.evidence.join("; "), c.recommendation));
            }
        }
        if !r.patterns.is_empty() {
            out.push_str("\nTop error patterns:");
            for p in r.patterns.iter().take(5) {
                out.push_str(&format!("\n- {}× {}", p.count, p.template));
            }
        }
        for t in r.timeline.iter().take(15) {
            out.push_str(&format!("\n{} [{}] {}", t.at.format("%H:%M:%S"), t.kind, t.what));
        }
        for more in
            [more(3, r.root_causes.len(), "root-cause candidate(s)"), more(5, r.patterns.len(), "pattern(s)"), more(15, r.timeline.len(), "timeline event(s)")]
                .into_iter()
                .flatten()
        {
            out.push_str(&format!("\n{more}"));
        }
        out.push_str(&format!("\nIncident report: {}", r.report_path.display()));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_deploy_is_on_the_timeline() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::at(dir.path().to_path_buf());
        let now = Utc::now();
        for (outcome, detail) in [("requested", "asked"), ("failed", "apply failed; running debug"), ("succeeded", "applied: +1 ~0 -0")] {
            let mut e = crate::workspace::AuditEntry::new("deploy", "prod", crate::workspace::Outcome::Requested);
            e.detail = Some(detail.into());
            let mut v = serde_json::to_value(&e).unwrap();
            v["outcome"] = serde_json::json!(outcome);
            let path = ws.root().join(crate::workspace::audit::FILE);
            std::fs::create_dir_all(ws.root()).unwrap();
            let mut text = std::fs::read_to_string(&path).unwrap_or_default();
            text.push_str(&format!("{v}\n"));
            std::fs::write(&path, text).unwrap();
        }
        let changes = audit_changes(&ws, "prod", now - Duration::hours(1), now + Duration::hours(1));
        let what: Vec<&str> = changes.iter().map(|c| c.what.as_str()).collect();
        assert_eq!(what, ["deploy (failed): apply failed; running debug", "deploy: applied: +1 ~0 -0"]);
    }

    #[test]
    fn error_lines() {
        for (line, want) in [
            ("[ERROR] Database timeout after 3000ms", true),
            ("Traceback (most recent call last):", true),
            ("Task timed out after 30.03 seconds", true),
            ("INFO request handled in 12 ms", false),
            ("REPORT RequestId: x Duration: 1 ms", false),
            ("START RequestId: x Version: $LATEST", false),
        ] {
            assert_eq!(is_error(line), want, "{line}");
        }
    }

    #[test]
    fn ranking_puts_dependency_errors_and_recent_changes_first() {
        let t = |m: i64| DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z").unwrap().with_timezone(&Utc) + Duration::minutes(m);
        let timeline = vec![
            TimelineEntry { at: t(0), kind: "deployment", service: None, what: "deploy: applied".into() },
            TimelineEntry { at: t(10), kind: "error-burst", service: Some("api".into()), what: "40 error events in api".into() },
        ];
        let patterns = vec![Pattern {
            template: "ERROR Database timeout after <num>ms".into(),
            count: 40,
            services: vec!["api".into()],
            first_seen: t(10),
            last_seen: t(12),
            example: "ERROR Database timeout after 3000ms".into(),
        }];
        let ranked = rank(&timeline, &patterns, &[], 40);
        assert!(ranked[0].cause.contains("deployment") || ranked[0].cause.contains("dependency"), "{ranked:?}");
        assert!(ranked.iter().any(|c| c.cause.contains("dependency") && c.affected == ["api"]));
        assert!(ranked.iter().any(|c| c.cause.contains("deployment") && c.evidence[1].contains("10 min later")));
        assert!(ranked.windows(2).all(|w| w[0].score >= w[1].score));
    }
}
