//! CloudWatch Logs: filtered events of a log group page by page, and Logs
//! Insights queries (the work runs where the data is) for long windows.

use std::time::Duration;

use aws_sdk_cloudwatchlogs::types::QueryStatus;
use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;

use super::{Cloud, aws_error, is_not_found};
use crate::error::Error;

/// One log event.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Event {
    pub group: String,
    pub stream: String,
    pub at: DateTime<Utc>,
    pub message: String,
}

/// A page of events and where to go on.
#[derive(Debug, Default)]
pub struct Page {
    pub events: Vec<Event>,
    pub next: Option<String>,
    /// The group does not exist.
    pub missing: bool,
}

fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// One `FilterLogEvents` page (`pattern` is a CloudWatch filter pattern; empty matches all).
pub async fn filter_page(
    cloud: &Cloud,
    group: &str,
    pattern: &str,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    limit: i32,
    token: Option<String>,
    calls: &mut u32,
) -> Result<Page, Error> {
    *calls += 1;
    let mut req = cloud
        .logs()
        .filter_log_events()
        .log_group_name(group)
        .start_time(millis(start))
        .end_time(millis(end))
        .limit(limit.clamp(1, 10_000))
        .set_next_token(token);
    if !pattern.trim().is_empty() {
        req = req.filter_pattern(pattern);
    }
    match req.send().await {
        Ok(resp) => Ok(Page {
            events: resp
                .events()
                .iter()
                .map(|e| Event {
                    group: group.to_string(),
                    stream: e.log_stream_name().unwrap_or_default().to_string(),
                    at: from_millis(e.timestamp().unwrap_or_default()),
                    message: e.message().unwrap_or_default().trim_end().to_string(),
                })
                .collect(),
            next: resp.next_token().map(str::to_string).filter(|t| !t.is_empty()),
            missing: false,
        }),
        Err(e) if is_not_found(&e) => Ok(Page { missing: true, ..Page::default() }),
        Err(e) => Err(aws_error("logs:FilterLogEvents", e)),
    }
}

/// Up to `max` matching events of a group in `[start, end)`, following pages; `truncated` when more exist.
pub async fn filter_all(
    cloud: &Cloud,
    group: &str,
    pattern: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    max: usize,
    calls: &mut u32,
) -> Result<(Vec<Event>, bool, bool), Error> {
    let mut events = Vec::new();
    let mut token = None;
    loop {
        let page = filter_page(cloud, group, pattern, (start, end), 10_000, token, calls).await?;
        if page.missing {
            return Ok((events, false, true));
        }
        events.extend(page.events);
        if events.len() >= max {
            events.truncate(max);
            return Ok((events, true, false));
        }
        match page.next {
            Some(t) => token = Some(t),
            None => return Ok((events, false, false)),
        }
    }
}

/// A Logs Insights query over `groups` in `[start, end)`: its rows as field → value, or an error when
/// the backend does not run it (then the caller falls back to filtering).
pub async fn insights(
    cloud: &Cloud,
    groups: &[String],
    query: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    calls: &mut u32,
) -> Result<Vec<Vec<(String, String)>>, Error> {
    let client = cloud.logs();
    *calls += 1;
    let started = client
        .start_query()
        .set_log_group_names(Some(groups.to_vec()))
        .start_time(start.timestamp())
        .end_time(end.timestamp())
        .query_string(query)
        .send()
        .await
        .map_err(|e| aws_error("logs:StartQuery", e))?;
    let id = started.query_id().unwrap_or_default().to_string();
    for attempt in 0..60 {
        *calls += 1;
        let resp = client.get_query_results().query_id(&id).send().await.map_err(|e| aws_error("logs:GetQueryResults", e))?;
        match resp.status() {
            Some(QueryStatus::Complete) => {
                return Ok(resp
                    .results()
                    .iter()
                    .map(|row| row.iter().map(|f| (f.field().unwrap_or_default().to_string(), f.value().unwrap_or_default().to_string())).collect())
                    .collect());
            }
            Some(QueryStatus::Failed | QueryStatus::Cancelled | QueryStatus::Timeout) => {
                return Err(Error::Failed(format!("Logs Insights query {id} ended as {:?}", resp.status())));
            }
            _ => tokio::time::sleep(Duration::from_millis(if attempt < 5 { 200 } else { 1000 })).await,
        }
    }
    Err(Error::Failed(format!("Logs Insights query {id} did not finish within a minute")))
}

/// Writes `lines` (time in ms, message) to `stream` of `group`, creating the stream when it is missing (never the
/// group); in time order, batches of at most 1,000 events and about 900 KB.
pub async fn put_lines(cloud: &Cloud, group: &str, stream: &str, lines: &[(i64, String)]) -> Result<(), Error> {
    let client = cloud.logs();
    if let Err(e) = client.create_log_stream().log_group_name(group).log_stream_name(stream).send().await {
        let exists = e.as_service_error().is_some_and(|s| s.is_resource_already_exists_exception());
        if !exists {
            return Err(aws_error("logs:CreateLogStream", e));
        }
    }
    let mut sorted: Vec<&(i64, String)> = lines.iter().collect();
    sorted.sort_by_key(|(t, _)| *t);
    let mut batch = Vec::new();
    let mut bytes = 0;
    for (i, (at, message)) in sorted.iter().enumerate() {
        bytes += message.len() + 26;
        batch.push(
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(*at)
                .message(message.clone())
                .build()
                .map_err(|e| Error::Failed(e.to_string()))?,
        );
        if batch.len() == 1000 || bytes > 900_000 || i + 1 == sorted.len() {
            client
                .put_log_events()
                .log_group_name(group)
                .log_stream_name(stream)
                .set_log_events(Some(std::mem::take(&mut batch)))
                .send()
                .await
                .map_err(|e| aws_error("logs:PutLogEvents", e))?;
            bytes = 0;
        }
    }
    Ok(())
}
