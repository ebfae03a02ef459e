//! AWS Cost Explorer: actual spend of one environment (filtered by the tags
//! the generated `default_tags` put on every resource), by month and service;
//! the forecast and the spend per resource where the backend offers them.

use aws_sdk_costexplorer::types::{DateInterval, Dimension, Expression, Granularity, GroupDefinition, GroupDefinitionType, Metric, TagValues};
use chrono::NaiveDate;

use super::Cloud;
use super::posture::describe;

/// One period's spend: total and by group (service or resource), in `unit`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct Period {
    pub start: String,
    pub end: String,
    /// Cost Explorer marks a period whose figures may still change.
    pub estimated: bool,
    pub total: f64,
    pub unit: String,
    pub groups: Vec<(String, f64)>,
}

/// What Cost Explorer answered, and what it did not.
#[derive(Debug, Default)]
pub struct Spend {
    pub months: Vec<Period>,
    pub forecast: Option<(f64, String)>,
    pub by_resource: Option<Vec<(String, f64)>>,
    pub notes: Vec<String>,
    pub calls: u32,
}

const METRIC: &str = "UnblendedCost";

fn filter(tags: &[(String, String)]) -> Option<Expression> {
    let terms: Vec<Expression> = tags.iter().map(|(k, v)| Expression::builder().tags(TagValues::builder().key(k).values(v).build()).build()).collect();
    match terms.len() {
        0 => None,
        1 => terms.into_iter().next(),
        _ => Some(Expression::builder().set_and(Some(terms)).build()),
    }
}

fn interval(start: NaiveDate, end: NaiveDate) -> Option<DateInterval> {
    DateInterval::builder().start(start.format("%Y-%m-%d").to_string()).end(end.format("%Y-%m-%d").to_string()).build().ok()
}

fn amount(m: Option<&std::collections::HashMap<String, aws_sdk_costexplorer::types::MetricValue>>) -> (f64, String) {
    let v = m.and_then(|m| m.get(METRIC));
    (v.and_then(|v| v.amount()).and_then(|a| a.parse().ok()).unwrap_or(0.0), v.and_then(|v| v.unit()).unwrap_or("USD").to_string())
}

/// Monthly spend by service from the first day of `first_month` to `today` (inclusive), the forecast to
/// the end of this month, and the last 14 days by resource.
pub async fn spend(cloud: &Cloud, tags: &[(String, String)], first_month: NaiveDate, today: NaiveDate) -> Spend {
    let ce = aws_sdk_costexplorer::Client::new(&cloud.sdk);
    let mut out = Spend::default();
    let tomorrow = today.succ_opt().unwrap_or(today);
    let by = |key: &str| GroupDefinition::builder().r#type(GroupDefinitionType::Dimension).key(key).build();
    let mut token: Option<String> = None;
    loop {
        out.calls += 1;
        let sent = ce
            .get_cost_and_usage()
            .set_time_period(interval(first_month, tomorrow))
            .granularity(Granularity::Monthly)
            .metrics(METRIC)
            .group_by(by("SERVICE"))
            .set_filter(filter(tags))
            .set_next_page_token(token.clone())
            .send()
            .await;
        match sent {
            Ok(page) => {
                for r in page.results_by_time() {
                    let (total, unit) = amount(r.total());
                    let groups: Vec<(String, f64)> = r.groups().iter().map(|g| (g.keys().join(" / "), amount(g.metrics()).0)).collect();
                    let group_unit = r.groups().first().map(|g| amount(g.metrics()).1).unwrap_or(unit);
                    let summed = groups.iter().map(|g| g.1).sum::<f64>();
                    out.months.push(Period {
                        start: r.time_period().map(|p| p.start().to_string()).unwrap_or_default(),
                        end: r.time_period().map(|p| p.end().to_string()).unwrap_or_default(),
                        estimated: r.estimated(),
                        // Grouped results carry no total of their own.
                        total: if total == 0.0 { summed } else { total },
                        unit: group_unit,
                        groups,
                    });
                }
                token = page.next_page_token().filter(|t| !t.is_empty()).map(str::to_string);
                if token.is_none() {
                    break;
                }
            }
            Err(e) => {
                out.notes.push(describe("ce:GetCostAndUsage", &e));
                break;
            }
        }
    }
    let next_month = first_of_next_month(today);
    if tomorrow < next_month {
        out.calls += 1;
        match ce
            .get_cost_forecast()
            .set_time_period(interval(tomorrow, next_month))
            .granularity(Granularity::Monthly)
            .metric(Metric::UnblendedCost)
            .set_filter(filter(tags))
            .send()
            .await
        {
            Ok(f) => {
                out.forecast = f.total().and_then(|t| Some((t.amount()?.parse().ok()?, t.unit().unwrap_or("USD").to_string())));
            }
            Err(e) => out.notes.push(format!("no forecast: {}", describe("ce:GetCostForecast", &e))),
        }
    }
    out.calls += 1;
    let fortnight = today - chrono::Duration::days(13);
    match ce
        .get_cost_and_usage_with_resources()
        .set_time_period(interval(fortnight, tomorrow))
        .granularity(Granularity::Daily)
        .metrics(METRIC)
        .group_by(by(Dimension::ResourceId.as_str()))
        .set_filter(filter(tags))
        .send()
        .await
    {
        Ok(page) => {
            let mut per: std::collections::BTreeMap<String, f64> = Default::default();
            for r in page.results_by_time() {
                for g in r.groups() {
                    *per.entry(g.keys().join(" / ")).or_default() += amount(g.metrics()).0;
                }
            }
            out.by_resource = Some(per.into_iter().collect());
        }
        Err(e) => out.notes.push(format!("no cost per resource: {}", describe("ce:GetCostAndUsageWithResources", &e))),
    }
    out
}

pub fn first_of_next_month(d: NaiveDate) -> NaiveDate {
    use chrono::Datelike;
    let first = d.with_day(1).unwrap_or(d);
    first.checked_add_months(chrono::Months::new(1)).unwrap_or(first)
}
