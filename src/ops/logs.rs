//! query-logs: a service's log groups, filtered (CloudWatch filter pattern)
//! over a timeframe. The reply stays small: counts per group, the newest
//! matching events (each cut at 500 characters), and a continuation token
//! when there is more. Windows longer than a day are counted with a Logs
//! Insights query (the work runs where the data is); when the backend does
//! not run Insights, the events are paged instead, and the reply says so.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::cloud::Cloud;
use crate::cloud::logs::{self, Event};
use crate::config::Config;
use crate::error::Error;
use crate::ops::services::{self, Service};
use crate::vocabulary::Report;
use crate::vocabulary::Timeframe;
use crate::workspace::Workspace;

/// Events returned when no limit is given.
pub const DEFAULT_LIMIT: usize = 50;
/// Events read per group at most (the rest is counted by Insights or reported as truncated).
pub const MAX_SCAN: usize = 20_000;
const MAX_MESSAGE: usize = 500;

/// `[start, end)` for a timeframe, `default` when none is given.
pub fn window(timeframe: Option<&Timeframe>, default: Timeframe, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    timeframe.unwrap_or(&default).window(now)
}

/// A simple CloudWatch filter pattern (terms, all required; or a "quoted phrase") as a Logs Insights
/// `filter ... |` clause; empty for an empty pattern. Terms are matched literally (regex characters escaped).
pub fn insights_filter(pattern: &str) -> String {
    let escape = |t: &str| t.chars().flat_map(|c| if "\\/.^$|?*+()[]{}".contains(c) { vec!['\\', c] } else { vec![c] }).collect::<String>();
    let mut terms = Vec::new();
    let mut rest = pattern.trim();
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            terms.push(quoted[..end].to_string());
            rest = quoted.get(end + 1..).unwrap_or("").trim_start();
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            terms.push(rest[..end].to_string());
            rest = rest[end..].trim_start();
        }
    }
    let clauses: Vec<String> = terms.iter().filter(|t| !t.is_empty()).map(|t| format!("@message like /{}/", escape(t))).collect();
    if clauses.is_empty() { String::new() } else { format!("filter {} | ", clauses.join(" and ")) }
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct GroupCount {
    pub group: String,
    pub service: String,
    /// Matching events in the window (exact unless `truncated`).
    pub matches: u64,
    pub truncated: bool,
    pub missing: bool,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct LogsReport {
    /// The AWS identity the calls were made as (STS caller ARN), when STS named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    pub env: String,
    pub filter: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub groups: Vec<GroupCount>,
    pub total_matches: u64,
    /// The newest matching events, newest first.
    pub events: Vec<Event>,
    /// Pass as timeframe `start/end` to read older events: the window up to the oldest one returned.
    pub continuation: Option<String>,
    /// How the counting was done: filter or insights.
    pub method: String,
    pub notes: Vec<String>,
    pub aws_calls: u32,
}

fn cut(mut e: Event) -> Event {
    if e.message.chars().count() > MAX_MESSAGE {
        e.message = format!("{}… (cut)", e.message.chars().take(MAX_MESSAGE).collect::<String>());
    }
    e.message = crate::redact::redact(&e.message);
    e
}

pub async fn run(
    ws: &Workspace,
    config: &Config,
    env: &str,
    service: Option<&str>,
    filter: Option<&str>,
    timeframe: Option<&Timeframe>,
    limit: Option<u32>,
) -> Result<LogsReport, Error> {
    let mut calls = 0;
    let cloud = Cloud::connect(config, env).await;
    let all = services::resolve(&cloud, ws, config, env, &mut calls).await?;
    let chosen: Vec<Service> = services::select(&all, service)?;
    let (start, end) = window(timeframe, Timeframe::hours(1), Utc::now());
    let filter = filter.unwrap_or("").trim().to_string();
    let limit = limit.map_or(DEFAULT_LIMIT, |l| l as usize);
    let mut notes = Vec::new();
    let mut groups = Vec::new();
    let mut events = Vec::new();
    let mut method = "filter".to_string();
    let long = end - start > Duration::hours(24);
    let mut insight_counts = None;
    let names: Vec<String> = chosen.iter().flat_map(|s| s.log_groups.clone()).collect();
    if long && !names.is_empty() {
        let q = format!("{}stats count(*) as n by @log", insights_filter(&filter));
        match logs::insights(&cloud, &names, &q, start, end, &mut calls).await {
            Ok(rows) if !rows.is_empty() && rows.iter().all(|r| r.iter().any(|(k, _)| k == "n")) => {
                method = "insights".into();
                insight_counts = Some(rows);
            }
            Ok(_) => notes
                .push("Logs Insights returned no aggregate (this backend does not evaluate queries): events were paged with FilterLogEvents instead".into()),
            Err(e) => notes.push(format!("Logs Insights was not available ({e}): events were paged with FilterLogEvents instead")),
        }
    }
    // With Insights counting, the newest events come from Insights too: nothing is paged through here.
    let mut newest_by_insights = false;
    if insight_counts.is_some() {
        let q = format!("fields @timestamp, @message, @log, @logStream | {}sort @timestamp desc | limit {}", insights_filter(&filter), limit + 1);
        if let Ok(rows) = logs::insights(&cloud, &names, &q, start, end, &mut calls).await {
            let field = |r: &Vec<(String, String)>, k: &str| r.iter().find(|(f, _)| f == k).map(|(_, v)| v.clone()).unwrap_or_default();
            for r in &rows {
                let at = chrono::NaiveDateTime::parse_from_str(&field(r, "@timestamp"), "%Y-%m-%d %H:%M:%S%.f").map(|t| t.and_utc()).unwrap_or(start);
                events.push(Event { group: field(r, "@log"), stream: field(r, "@logStream"), at, message: field(r, "@message") });
            }
            newest_by_insights = true;
        }
    }
    for s in &chosen {
        if s.log_groups.is_empty() {
            notes.push(format!("{} ({}) has no log group known to faber-cloud", s.name, s.kind.as_str()));
        }
        for g in &s.log_groups {
            let counted = insight_counts
                .as_ref()
                .and_then(|rows| rows.iter().find(|r| r.iter().any(|(k, v)| k == "@log" && v.ends_with(g.as_str()))))
                .and_then(|r| r.iter().find(|(k, _)| k == "n").and_then(|(_, v)| v.parse::<u64>().ok()));
            if newest_by_insights {
                groups.push(GroupCount { group: g.clone(), service: s.name.clone(), matches: counted.unwrap_or(0), truncated: false, missing: false });
                continue;
            }
            let (found, truncated, missing) = logs::filter_all(&cloud, g, &filter, start, end, MAX_SCAN, &mut calls).await?;
            groups.push(GroupCount {
                group: g.clone(),
                service: s.name.clone(),
                matches: counted.unwrap_or(found.len() as u64),
                truncated: truncated && counted.is_none(),
                missing,
            });
            events.extend(found);
        }
    }
    events.sort_by_key(|e| std::cmp::Reverse(e.at));
    let total_matches = groups.iter().map(|g| g.matches).sum();
    let continuation = (events.len() > limit).then(|| {
        let oldest = events[limit - 1].at;
        format!("{}/{}", start.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), oldest.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
    });
    events.truncate(limit);
    let events = events.into_iter().map(cut).collect();
    let identity = cloud.caller().await.ok().map(|c| c.arn);
    Ok(LogsReport { identity, env: env.into(), filter, start, end, groups, total_matches, events, continuation, method, notes, aws_calls: calls })
}

impl Report for LogsReport {
    fn text(&self) -> String {
        let r = self;
        let mut out = format!(
            "{} matching event(s){} in {} log group(s), {} → {}.",
            r.total_matches,
            if r.filter.is_empty() { String::new() } else { format!(" for {}", r.filter) },
            r.groups.len(),
            r.start.format("%Y-%m-%d %H:%M"),
            r.end.format("%Y-%m-%d %H:%M")
        );
        for g in &r.groups {
            out.push_str(&format!(
                "\n- {} ({}): {}{}{}",
                g.group,
                g.service,
                g.matches,
                if g.truncated { "+" } else { "" },
                if g.missing { " (group does not exist)" } else { "" }
            ));
        }
        const SHOWN: usize = 20;
        for e in r.events.iter().take(SHOWN) {
            out.push_str(&format!("\n{} {}", e.at.format("%H:%M:%S"), e.message.lines().next().unwrap_or("")));
        }
        if let Some(more) = crate::vocabulary::report::more(SHOWN, r.events.len(), "event(s)") {
            out.push_str(&format!("\n{more}"));
        }
        if let Some(c) = &r.continuation {
            out.push_str(&format!("\nMore: timeframe {c}"));
        }
        for n in &r.notes {
            out.push_str(&format!("\nNote: {n}"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_patterns_become_insights_clauses() {
        for (pattern, want) in [
            ("", ""),
            ("ERROR", "filter @message like /ERROR/ | "),
            ("ERROR timeout", "filter @message like /ERROR/ and @message like /timeout/ | "),
            ("\"Database timeout\"", "filter @message like /Database timeout/ | "),
            ("a/b (x)", "filter @message like /a\\/b/ and @message like /\\(x\\)/ | "),
        ] {
            assert_eq!(insights_filter(pattern), want, "{pattern}");
        }
    }

    #[test]
    fn windows() {
        let now = DateTime::parse_from_rfc3339("2026-11-28T12:00:00Z").unwrap().with_timezone(&Utc);
        let w = |t: Option<&str>| {
            let tf = t.map(Timeframe::parse).transpose()?;
            Ok::<_, crate::vocabulary::BadInput>(window(tf.as_ref(), Timeframe::hours(1), now)).map(|(a, b)| (a.to_rfc3339(), b.to_rfc3339()))
        };
        assert_eq!(w(None).unwrap().0, "2026-11-28T11:00:00+00:00");
        assert_eq!(w(Some("2h")).unwrap().0, "2026-11-28T10:00:00+00:00");
        assert_eq!(w(Some("7d")).unwrap().0, "2026-11-21T12:00:00+00:00");
        assert_eq!(w(Some("2026-11-01T00:00:00Z/2026-11-02T00:00:00Z")).unwrap(), ("2026-11-01T00:00:00+00:00".into(), "2026-11-02T00:00:00+00:00".into()));
        assert!(w(Some("2x")).unwrap_err().to_string().starts_with("timeframe:"));
    }
}
