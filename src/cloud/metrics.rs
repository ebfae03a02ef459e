//! CloudWatch metrics and alarms. Metric data is fetched in batches: one
//! `GetMetricData` call carries up to 500 queries (and pages through the
//! results), never one call per metric per datapoint. Every call is counted.

use std::collections::HashMap;

use aws_sdk_cloudwatch::primitives::DateTime as AwsTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, StateValue};
use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;

use super::{Cloud, aws_error};
use crate::error::Error;

/// The most queries one `GetMetricData` call takes.
pub const MAX_QUERIES: usize = 500;

/// One metric statistic to fetch.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct MetricQuery {
    /// Unique within a request: lowercase letter first, then letters, digits, '_'.
    pub id: String,
    pub namespace: String,
    pub metric: String,
    pub dimensions: Vec<(String, String)>,
    /// `Sum`, `Average`, `Maximum`, `Minimum`, `SampleCount`, or a percentile such as `p90`.
    pub stat: String,
    pub period_secs: i32,
}

/// The datapoints of each query id, oldest first.
pub type Series = HashMap<String, Vec<(DateTime<Utc>, f64)>>;

fn aws_time(t: DateTime<Utc>) -> AwsTime {
    AwsTime::from_secs(t.timestamp())
}

fn chrono_time(t: &AwsTime) -> DateTime<Utc> {
    Utc.timestamp_opt(t.secs(), 0).single().unwrap_or_default()
}

/// Fetches every query over `[start, end)`, in batches of [`MAX_QUERIES`]. `calls` counts the AWS calls made.
pub async fn get(cloud: &Cloud, queries: &[MetricQuery], start: DateTime<Utc>, end: DateTime<Utc>, calls: &mut u32) -> Result<Series, Error> {
    let client = cloud.cloudwatch();
    let mut out: Series = HashMap::new();
    for batch in queries.chunks(MAX_QUERIES) {
        let built: Vec<MetricDataQuery> = batch
            .iter()
            .map(|q| {
                let mut metric = Metric::builder().namespace(&q.namespace).metric_name(&q.metric);
                for (k, v) in &q.dimensions {
                    metric = metric.dimensions(Dimension::builder().name(k).value(v).build());
                }
                MetricDataQuery::builder()
                    .id(&q.id)
                    .metric_stat(MetricStat::builder().metric(metric.build()).period(q.period_secs).stat(&q.stat).build())
                    .return_data(true)
                    .build()
            })
            .collect();
        let mut token: Option<String> = None;
        loop {
            *calls += 1;
            let resp = client
                .get_metric_data()
                .set_metric_data_queries(Some(built.clone()))
                .start_time(aws_time(start))
                .end_time(aws_time(end))
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| aws_error("cloudwatch:GetMetricData", e))?;
            for r in resp.metric_data_results() {
                let id = r.id().unwrap_or_default().to_string();
                let points = out.entry(id).or_default();
                points.extend(r.timestamps().iter().map(chrono_time).zip(r.values().iter().copied()));
            }
            token = resp.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
    }
    for points in out.values_mut() {
        points.sort_by_key(|p| p.0);
        points.dedup_by_key(|p| p.0);
    }
    Ok(out)
}

/// An alarm as shown in reports.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AlarmState {
    pub name: String,
    pub state: String,
    pub reason: String,
    pub metric: String,
    pub dimensions: Vec<(String, String)>,
    pub updated: Option<DateTime<Utc>>,
}

/// Every metric alarm of the account and region (paged).
pub async fn alarms(cloud: &Cloud, calls: &mut u32) -> Result<Vec<AlarmState>, Error> {
    let client = cloud.cloudwatch();
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        *calls += 1;
        let resp = client.describe_alarms().set_next_token(token.clone()).send().await.map_err(|e| aws_error("cloudwatch:DescribeAlarms", e))?;
        for a in resp.metric_alarms() {
            out.push(AlarmState {
                name: a.alarm_name().unwrap_or_default().into(),
                state: a.state_value().map_or("UNKNOWN", StateValue::as_str).into(),
                reason: a.state_reason().unwrap_or_default().into(),
                metric: a.metric_name().unwrap_or_default().into(),
                dimensions: a.dimensions().iter().map(|d| (d.name().unwrap_or_default().to_string(), d.value().unwrap_or_default().to_string())).collect(),
                updated: a.state_updated_timestamp().map(chrono_time),
            });
        }
        token = resp.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok(out)
}

/// A state change of an alarm.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AlarmChange {
    pub alarm: String,
    pub at: DateTime<Utc>,
    pub summary: String,
}

/// State changes of the named alarms in `[start, end)`.
pub async fn alarm_history(cloud: &Cloud, names: &[String], start: DateTime<Utc>, end: DateTime<Utc>, calls: &mut u32) -> Result<Vec<AlarmChange>, Error> {
    let client = cloud.cloudwatch();
    let mut out = Vec::new();
    for name in names {
        *calls += 1;
        let resp = client
            .describe_alarm_history()
            .alarm_name(name)
            .history_item_type(aws_sdk_cloudwatch::types::HistoryItemType::StateUpdate)
            .start_date(aws_time(start))
            .end_date(aws_time(end))
            .send()
            .await
            .map_err(|e| aws_error("cloudwatch:DescribeAlarmHistory", e))?;
        for h in resp.alarm_history_items() {
            out.push(AlarmChange {
                alarm: h.alarm_name().unwrap_or(name).to_string(),
                at: h.timestamp().map(chrono_time).unwrap_or(start),
                summary: h.history_summary().unwrap_or_default().to_string(),
            });
        }
    }
    out.sort_by_key(|c| c.at);
    Ok(out)
}
