//! Robust statistics for the runtime operations (`check-health`,
//! `analyze-performance`, `investigate`): pure functions over numbers,
//! datapoints, event timestamps and Lambda `REPORT` lines. Nothing here does
//! I/O; the callers fetch the data and turn the results into findings.
//!
//! - **Summaries**: [`median`], [`mad`] (median absolute deviation) and
//!   nearest-rank [`percentile`].
//! - **Anomalies**: a recent value is compared with a [`baseline`] built from
//!   the history before it: the same hour of day on previous days when there
//!   are enough of them (daily traffic patterns), otherwise the whole history.
//!   [`anomaly`] flags a value whose robust z-score is beyond 3.5 *and* whose
//!   relative change is material (at least twice, or at most half, normal),
//!   so neither a noisy metric nor a flat one cries wolf.
//! - **Trends**: least-squares [`trend`] of a series, per hour.
//! - **Bursts**: [`bursts`] of events in fixed buckets, and [`correlate`] to
//!   pair the bursts of different series that start close together.
//! - **Lambda**: [`parse_report`] reads a `REPORT` log line and
//!   [`memory_advice`] right-sizes the configured memory from many of them.
//!
//! No function panics: empty or short inputs give `None` or an empty result.
//! Inputs are assumed free of NaN; sorting uses a total order regardless.

use std::collections::BTreeMap;

use chrono::{DateTime, Timelike, Utc};
use serde::Serialize;

/// One datapoint.
pub type Point = (DateTime<Utc>, f64);

/// Scales a MAD to the standard deviation of a normal distribution.
const MAD_TO_SIGMA: f64 = 1.4826;
/// Robust z-score beyond which a value is an outlier (Iglewicz and Hoaglin).
const Z_THRESHOLD: f64 = 3.5;
/// Smallest history a baseline is built from.
const MIN_HISTORY: usize = 6;
/// Previous days needed for a seasonal baseline.
const MIN_SEASONAL_DAYS: usize = 3;
/// Smallest denominator, so that a zero median and a zero `min_abs` give a
/// large finite score or ratio rather than an infinity or NaN.
const TINY: f64 = 1e-9;
/// Lambda price per GB-second (x86, first tier), in USD.
const USD_PER_GB_SECOND: f64 = 0.000_016_666_7;
/// Hours in an average month.
const HOURS_PER_MONTH: f64 = 730.0;
/// Lambda memory bounds, in MB.
const LAMBDA_MIN_MB: u32 = 128;
const LAMBDA_MAX_MB: u32 = 10_240;

/// The values sorted ascending (total order, so never a panic).
fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// The median of the values (the mean of the two middle ones for an even
/// count); `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let v = sorted(values);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// Median absolute deviation (unscaled): the median of `|x - median|`;
/// `None` when empty.
pub fn mad(values: &[f64]) -> Option<f64> {
    let m = median(values)?;
    let deviations: Vec<f64> = values.iter().map(|x| (x - m).abs()).collect();
    median(&deviations)
}

/// Nearest-rank percentile, q in 0..=100 (clamped): the smallest value with
/// at least q% of the values at or below it; q = 0 gives the minimum.
/// `None` when empty.
pub fn percentile(values: &[f64], q: f64) -> Option<f64> {
    let v = sorted(values);
    if v.is_empty() {
        return None;
    }
    let q = if q.is_nan() { 0.0 } else { q.clamp(0.0, 100.0) };
    // q * n first: exact for integer q, so 40% of 5 is rank 2, not 3.
    let rank = (q * v.len() as f64 / 100.0).ceil() as usize;
    Some(v[rank.clamp(1, v.len()) - 1])
}

/// What the recent value is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BaselineKind {
    /// same hour of day on previous days (needs >= 3 previous days with data at that hour)
    Seasonal,
    /// the robust statistics of the whole history window
    Rolling,
}

/// The normal level of a metric: robust statistics of the points it was
/// built from.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Baseline {
    /// Which points were used.
    pub kind: BaselineKind,
    /// Their median.
    pub median: f64,
    /// Their median absolute deviation (unscaled).
    pub mad: f64,
    /// How many points were used.
    pub samples: usize,
}

impl Baseline {
    fn of(kind: BaselineKind, values: &[f64]) -> Option<Baseline> {
        Some(Baseline { kind, median: median(values)?, mad: mad(values)?, samples: values.len() })
    }
}

/// A recent value out of line with its baseline.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Anomaly {
    /// recent value
    pub value: f64,
    /// What it was compared with.
    pub baseline: Baseline,
    /// value / max(baseline.median, floor) — how many times normal
    pub ratio: f64,
    /// robust z-score: (value - median) / (1.4826 * mad), with mad floored (see below)
    pub score: f64,
    /// "above" or "below" the baseline.
    pub direction: &'static str,
}

/// The baseline for a recent value at time `at` from `history` (points before the recent window).
/// Seasonal when at least 3 distinct previous days (UTC calendar days before `at`'s) have a point
/// in the same UTC clock hour as `at` (use those points); otherwise Rolling over all history
/// points. None when history has fewer than 6 points.
pub fn baseline(history: &[Point], at: DateTime<Utc>) -> Option<Baseline> {
    if history.len() < MIN_HISTORY {
        return None;
    }
    let day = at.date_naive();
    let same_hour: Vec<&Point> = history.iter().filter(|(t, _)| t.date_naive() < day && t.hour() == at.hour()).collect();
    let mut days: Vec<_> = same_hour.iter().map(|(t, _)| t.date_naive()).collect();
    days.sort();
    days.dedup();
    if days.len() >= MIN_SEASONAL_DAYS {
        let values: Vec<f64> = same_hour.iter().map(|(_, v)| *v).collect();
        return Baseline::of(BaselineKind::Seasonal, &values);
    }
    let values: Vec<f64> = history.iter().map(|(_, v)| *v).collect();
    Baseline::of(BaselineKind::Rolling, &values)
}

/// Whether `value` at `at` is anomalous against `history`: robust z-score above 3.5 (or below -3.5 when
/// `both_directions`), AND the relative change is material: ratio >= 2.0 for "above" (value at least twice normal)
/// or value <= 0.5 * median for "below". The MAD is floored at max(0.05 * |median|, min_abs) / 1.4826 so that a flat
/// baseline (MAD 0) does not turn every wiggle into an anomaly; `min_abs` is the smallest absolute change worth
/// reporting for this metric (e.g. 1.0 for error counts). Ratio uses max(median, min_abs) as denominator.
/// Returns None when not anomalous or when there is no baseline.
pub fn anomaly(history: &[Point], at: DateTime<Utc>, value: f64, min_abs: f64, both_directions: bool) -> Option<Anomaly> {
    let baseline = baseline(history, at)?;
    let m = baseline.median;
    let mad_floor = (0.05 * m.abs()).max(min_abs) / MAD_TO_SIGMA;
    let sigma = (MAD_TO_SIGMA * baseline.mad.max(mad_floor)).max(TINY);
    let score = (value - m) / sigma;
    let ratio = value / m.max(min_abs).max(TINY);
    let direction = if score > Z_THRESHOLD && ratio >= 2.0 {
        "above"
    } else if both_directions && score < -Z_THRESHOLD && value <= 0.5 * m {
        "below"
    } else {
        return None;
    };
    Some(Anomaly { value, baseline, ratio, score, direction })
}

/// The linear trend of a series.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Trend {
    /// least-squares slope per hour
    pub slope_per_hour: f64,
    /// relative change over the series: slope * span_hours / |mean| (0 when mean is 0)
    pub relative_change: f64,
    /// coefficient of determination 0..=1 (0 for a constant series: nothing to explain)
    pub r2: f64,
    /// "rising", "falling" or "flat" (flat when |relative_change| < 0.1 or r2 < 0.3,
    /// unless the level shifted: see `strength` "step")
    pub direction: &'static str,
    /// "strong" (r2 >= 0.7), "moderate" (>= 0.3), "weak"; "step" when no line fits
    /// but the last quarter's mean is at least twice (or at most half) the rest's
    pub strength: &'static str,
}

/// Linear trend of a series (x = hours since the earliest point; the input need not be sorted).
/// None for fewer than 3 points or zero time span.
pub fn trend(points: &[Point]) -> Option<Trend> {
    if points.len() < 3 {
        return None;
    }
    let origin = points.iter().map(|(t, _)| *t).min()?;
    let xs: Vec<f64> = points.iter().map(|(t, _)| (*t - origin).num_milliseconds() as f64 / 3_600_000.0).collect();
    let span = xs.iter().copied().fold(0.0, f64::max);
    if span <= 0.0 {
        return None;
    }
    let n = points.len() as f64;
    let mean_x = xs.iter().sum::<f64>() / n;
    let mean_y = points.iter().map(|(_, y)| y).sum::<f64>() / n;
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for (x, (_, y)) in xs.iter().zip(points) {
        let (dx, dy) = (x - mean_x, y - mean_y);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    // span > 0 means at least two distinct x, so sxx > 0.
    let slope = sxy / sxx;
    let r2 = if syy > 0.0 { (sxy * sxy / (sxx * syy)).clamp(0.0, 1.0) } else { 0.0 };
    let relative_change = if mean_y == 0.0 { 0.0 } else { slope * span / mean_y.abs() };
    let direction = if relative_change.abs() < 0.1 || r2 < 0.3 {
        "flat"
    } else if slope > 0.0 {
        "rising"
    } else {
        "falling"
    };
    let strength = if r2 >= 0.7 {
        "strong"
    } else if r2 >= 0.3 {
        "moderate"
    } else {
        "weak"
    };
    if direction == "flat"
        && let Some(step) = level_shift(&xs, points)
    {
        return Some(Trend { slope_per_hour: slope, relative_change, r2, direction: step, strength: "step" });
    }
    Some(Trend { slope_per_hour: slope, relative_change, r2, direction, strength })
}

/// "rising" or "falling" when the last quarter of the series (in time) sits at
/// least twice above (or at most half of) the level before it: a step change,
/// which a straight line fits badly.
fn level_shift(xs: &[f64], points: &[Point]) -> Option<&'static str> {
    let mut by_time: Vec<(f64, f64)> = xs.iter().copied().zip(points.iter().map(|(_, y)| *y)).collect();
    by_time.sort_by(|a, b| a.0.total_cmp(&b.0));
    let late = (by_time.len() / 4).max(1);
    let (before, after) = by_time.split_at(by_time.len() - late);
    let mean = |s: &[(f64, f64)]| s.iter().map(|(_, y)| y).sum::<f64>() / s.len() as f64;
    let (early, recent) = (mean(before), mean(after));
    if recent >= 2.0 * early && recent > 0.0 {
        Some("rising")
    } else if recent <= 0.5 * early && early > 0.0 {
        Some("falling")
    } else {
        None
    }
}

/// A run of consecutive hot buckets of events.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Burst {
    /// Start of the first hot bucket.
    pub start: DateTime<Utc>,
    /// End of the last hot bucket.
    pub end: DateTime<Utc>,
    /// Events in the burst.
    pub count: u64,
    /// Most events in one of its buckets.
    pub peak_per_bucket: u64,
}

/// The time at `secs` since the epoch, or the latest representable time.
fn at_secs(secs: Option<i64>) -> DateTime<Utc> {
    secs.and_then(|s| DateTime::from_timestamp(s, 0)).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Median of `total` bucket counts of which all but `nonempty` (sorted
/// ascending) are zero, without building the zeros.
fn median_with_zeros(nonempty: &[u64], total: u64) -> f64 {
    let zeros = total.saturating_sub(nonempty.len() as u64);
    let at = |i: u64| if i < zeros { 0 } else { nonempty.get((i - zeros) as usize).copied().unwrap_or(0) };
    match total {
        0 => 0.0,
        _ if total % 2 == 1 => at(total / 2) as f64,
        _ => (at(total / 2 - 1) as f64 + at(total / 2) as f64) / 2.0,
    }
}

/// Bursts in event timestamps: the events are counted in `bucket_secs` buckets aligned to the
/// epoch; a bucket is hot when its count >= max(min_count, 3 * the median count over ALL buckets
/// between the first and last event, empty ones included); consecutive hot buckets merge into one
/// burst (end = end of the last hot bucket). Input need not be sorted. Empty for no events or a
/// `bucket_secs` <= 0.
pub fn bursts(events: &[DateTime<Utc>], bucket_secs: i64, min_count: u64) -> Vec<Burst> {
    bursts_in(events, None, bucket_secs, min_count)
}

/// Like [`bursts`], but the median counts every bucket of `[start, end)`, so
/// that a burst is judged against the quiet time around it even when only the
/// burst's events are given (e.g. the error lines of a log window).
pub fn bursts_within(events: &[DateTime<Utc>], start: DateTime<Utc>, end: DateTime<Utc>, bucket_secs: i64, min_count: u64) -> Vec<Burst> {
    bursts_in(events, Some((start, end)), bucket_secs, min_count)
}

fn bursts_in(events: &[DateTime<Utc>], window: Option<(DateTime<Utc>, DateTime<Utc>)>, bucket_secs: i64, min_count: u64) -> Vec<Burst> {
    if bucket_secs <= 0 {
        return Vec::new();
    }
    let mut counts: BTreeMap<i64, u64> = BTreeMap::new();
    for t in events {
        *counts.entry(t.timestamp().div_euclid(bucket_secs)).or_default() += 1;
    }
    let (Some((&first, _)), Some((&last, _))) = (counts.first_key_value(), counts.last_key_value()) else {
        return Vec::new();
    };
    let (first, last) = match window {
        Some((a, b)) => (first.min(a.timestamp().div_euclid(bucket_secs)), last.max((b.timestamp() - 1).div_euclid(bucket_secs))),
        None => (first, last),
    };
    let total = last.abs_diff(first).saturating_add(1);
    let mut nonempty: Vec<u64> = counts.values().copied().collect();
    nonempty.sort_unstable();
    let threshold = (min_count as f64).max(3.0 * median_with_zeros(&nonempty, total));

    let mut out: Vec<Burst> = Vec::new();
    let mut previous_hot: Option<i64> = None;
    for (&bucket, &count) in counts.iter().filter(|&(_, &c)| c as f64 >= threshold) {
        let end = at_secs(bucket.checked_add(1).and_then(|b| b.checked_mul(bucket_secs)));
        match out.last_mut() {
            Some(burst) if previous_hot.is_some_and(|p| p.checked_add(1) == Some(bucket)) => {
                burst.end = end;
                burst.count += count;
                burst.peak_per_bucket = burst.peak_per_bucket.max(count);
            }
            _ => out.push(Burst { start: at_secs(bucket.checked_mul(bucket_secs)), end, count, peak_per_bucket: count }),
        }
        previous_hot = Some(bucket);
    }
    out
}

/// Two series whose bursts start close together.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Correlation {
    /// The series given first.
    pub a: String,
    /// The series given second.
    pub b: String,
    /// seconds from a's burst start to b's (positive: a first)
    pub lead_secs: i64,
    /// which one started first (its name), or "same time" when equal
    pub first: String,
}

/// Pairs of series (name, bursts) whose bursts start within `window_secs` of each other (inclusive);
/// one entry per pair (the closest pair of bursts, the earliest found on a tie), pairs ordered as
/// given (a before b in input order).
pub fn correlate(series: &[(String, Vec<Burst>)], window_secs: i64) -> Vec<Correlation> {
    let mut out = Vec::new();
    for (i, (a, bursts_a)) in series.iter().enumerate() {
        for (b, bursts_b) in &series[i + 1..] {
            let closest = bursts_a.iter().flat_map(|x| bursts_b.iter().map(move |y| (y.start - x.start).num_seconds())).min_by_key(|lead| lead.unsigned_abs());
            let Some(lead_secs) = closest.filter(|lead| window_secs >= 0 && lead.unsigned_abs() <= window_secs as u64) else {
                continue;
            };
            let first = match lead_secs {
                0 => "same time".to_string(),
                l if l > 0 => a.clone(),
                _ => b.clone(),
            };
            out.push(Correlation { a: a.clone(), b: b.clone(), lead_secs, first });
        }
    }
    out
}

/// The figures of one Lambda `REPORT` log line.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct LambdaReport {
    /// Duration of the invocation.
    pub duration_ms: f64,
    /// Billed duration.
    pub billed_ms: f64,
    /// Configured memory.
    pub memory_size_mb: u32,
    /// Peak memory used.
    pub max_memory_used_mb: u32,
    /// Initialisation time, on cold starts only.
    pub init_duration_ms: Option<f64>,
}

/// Parses a Lambda REPORT log line, e.g.
/// "REPORT RequestId: 3f0a2c1e-8b5d-4c1a-9f0e-2b7d6c5a4e31\tDuration: 102.25 ms\tBilled Duration: 103 ms\tMemory Size: 256 MB\tMax Memory Used: 71 MB\tInit Duration: 180.12 ms"
/// (fields separated by tabs or spaces; Init Duration only on cold starts; may be followed by XRAY fields). None if
/// not a REPORT line (it must start with `REPORT`, leading whitespace aside) or a required field is missing or is not
/// a finite non-negative number.
pub fn parse_report(line: &str) -> Option<LambdaReport> {
    let mut tokens = line.split_whitespace();
    if tokens.next() != Some("REPORT") {
        return None;
    }
    // Each field is `Label Words: value [unit]`; a label's words gather until
    // the one ending in ':'.
    let mut fields: Vec<(String, &str)> = Vec::new();
    let mut label: Vec<&str> = Vec::new();
    let mut tokens = tokens.peekable();
    while let Some(token) = tokens.next() {
        let Some(last_word) = token.strip_suffix(':') else {
            label.push(token);
            continue;
        };
        label.push(last_word);
        let Some(value) = tokens.next() else { break };
        fields.push((label.join(" "), value));
        label.clear();
        if tokens.peek().is_some_and(|u| u.eq_ignore_ascii_case("ms") || u.eq_ignore_ascii_case("mb")) {
            tokens.next();
        }
    }
    let get = |name: &str| fields.iter().find(|(l, _)| l == name).map(|(_, v)| *v);
    let number = |name: &str| get(name)?.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0);
    let megabytes = |name: &str| get(name)?.parse::<u32>().ok();
    Some(LambdaReport {
        duration_ms: number("Duration")?,
        billed_ms: number("Billed Duration")?,
        memory_size_mb: megabytes("Memory Size")?,
        max_memory_used_mb: megabytes("Max Memory Used")?,
        init_duration_ms: number("Init Duration"),
    })
}

/// A memory right-sizing recommendation for one Lambda function.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct MemoryAdvice {
    /// Memory configured (that of the last report).
    pub configured_mb: u32,
    /// Memory recommended.
    pub recommended_mb: u32,
    /// Highest memory used in any report.
    pub peak_used_mb: u32,
    /// 95th percentile (nearest rank) of the memory used.
    pub p95_used_mb: u32,
    /// expected monthly saving in USD at the observed rate (positive = cheaper); 0 when not smaller
    pub monthly_saving_usd: f64,
    /// The recommendation in one sentence.
    pub reason: String,
}

/// `mb` rounded up to a multiple of 64, within Lambda's 128..=10240 MB.
fn lambda_memory_for(mb: f64) -> u32 {
    let rounded = (mb / 64.0).ceil() * 64.0;
    (rounded.min(LAMBDA_MAX_MB as f64) as u32).max(LAMBDA_MIN_MB)
}

/// Memory right-sizing from REPORT lines (in log order: the configured size is that of the last one):
/// recommended = max(128, round up to a multiple of 64 of (peak_used * 1.3)), capped at Lambda's 10240 MB;
/// never above configured unless peak_used > 0.9 * configured (then recommend round_up_64(peak * 1.3), i.e. more).
/// Saving: invocations_per_month * mean(billed_ms)/1000 * (configured - recommended)/1024 * 0.0000166667 (USD per GB-s),
/// where invocations_per_month = reports.len() / window_hours * 730. The reason says it in one sentence; when it
/// recommends less, with the caveat that less memory also means less CPU, so duration may grow.
/// None when reports is empty or window_hours <= 0.
pub fn memory_advice(reports: &[LambdaReport], window_hours: f64) -> Option<MemoryAdvice> {
    let last = reports.last()?;
    if window_hours.is_nan() || window_hours <= 0.0 {
        return None;
    }
    let configured = last.memory_size_mb;
    let used: Vec<f64> = reports.iter().map(|r| r.max_memory_used_mb as f64).collect();
    let peak = reports.iter().map(|r| r.max_memory_used_mb).max()?;
    let p95 = percentile(&used, 95.0)? as u32;
    let needed = lambda_memory_for(peak as f64 * 1.3);
    let tight = peak as f64 > 0.9 * configured as f64;
    let recommended = if tight { needed } else { needed.min(configured) };

    let invocations_per_month = reports.len() as f64 / window_hours * HOURS_PER_MONTH;
    let mean_billed_ms = reports.iter().map(|r| r.billed_ms).sum::<f64>() / reports.len() as f64;
    let monthly_saving_usd = if recommended < configured {
        invocations_per_month * mean_billed_ms / 1000.0 * (configured - recommended) as f64 / 1024.0 * USD_PER_GB_SECOND
    } else {
        0.0
    };

    let reason = if tight && recommended <= configured {
        format!(
            "Peak memory used is {peak} MB, over 90% of the {configured} MB configured, which is already the most \
             Lambda allows: reduce the memory the function needs."
        )
    } else if recommended > configured {
        format!(
            "Peak memory used is {peak} MB, over 90% of the {configured} MB configured: raise it to {recommended} MB \
             for 30% headroom (more memory also brings more CPU, so duration may shrink)."
        )
    } else if recommended < configured {
        // Below a cent the saving is not worth a sentence: say what the change is for instead.
        let saving = if monthly_saving_usd >= 0.01 {
            format!("would save about ${monthly_saving_usd:.2} a month at the observed rate")
        } else {
            "would save less than a cent a month at the observed rate (it matters only if traffic grows)".to_string()
        };
        format!(
            "Peak memory used is {peak} MB of the {configured} MB configured: {recommended} MB keeps 30% headroom and \
             {saving}, but less memory also means less CPU, so duration may grow; check it after the change."
        )
    } else {
        format!("Peak memory used is {peak} MB of the {configured} MB configured: the configured size fits, keep it.")
    };
    Some(MemoryAdvice { configured_mb: configured, recommended_mb: recommended, peak_used_mb: peak, p95_used_mb: p95, monthly_saving_usd, reason })
}

#[cfg(test)]
#[allow(clippy::type_complexity, reason = "test tables spell out their row types")]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    /// 2024-05-01 00:00 UTC plus `minutes`.
    fn t(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap() + Duration::minutes(minutes)
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn summaries() {
        let cases: [(&[f64], Option<f64>, Option<f64>); 7] = [
            (&[], None, None),
            (&[5.0], Some(5.0), Some(0.0)),
            (&[3.0, 1.0], Some(2.0), Some(1.0)),
            (&[3.0, 1.0, 2.0], Some(2.0), Some(1.0)),
            (&[1.0, 2.0, 3.0, 4.0], Some(2.5), Some(1.0)),
            (&[1.0, 1.0, 2.0, 2.0, 4.0, 6.0, 9.0], Some(2.0), Some(1.0)),
            (&[2.0, 2.0, 2.0, 100.0], Some(2.0), Some(0.0)),
        ];
        for (values, med, dev) in cases {
            assert_eq!(median(values), med, "median({values:?})");
            assert_eq!(mad(values), dev, "mad({values:?})");
        }
    }

    #[test]
    fn percentiles() {
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        let five = [50.0, 15.0, 40.0, 20.0, 35.0];
        let cases: [(&[f64], f64, Option<f64>); 12] = [
            (&[], 50.0, None),
            (&[7.0], 0.0, Some(7.0)),
            (&[7.0], 100.0, Some(7.0)),
            (&ten, 0.0, Some(1.0)),
            (&ten, 50.0, Some(5.0)),
            (&ten, 95.0, Some(10.0)),
            (&ten, 100.0, Some(10.0)),
            (&ten, 250.0, Some(10.0)),
            (&ten, -5.0, Some(1.0)),
            (&five, 30.0, Some(20.0)),
            (&five, 40.0, Some(20.0)),
            (&five, 50.0, Some(35.0)),
        ];
        for (values, q, expected) in cases {
            assert_eq!(percentile(values, q), expected, "percentile({values:?}, {q})");
        }
    }

    /// Hourly points for `days` days from 2024-05-01 00:00, value `f(i)`.
    fn hourly(days: i64, f: impl Fn(i64) -> f64) -> Vec<Point> {
        (0..days * 24).map(|i| (t(i * 60), f(i))).collect()
    }

    #[test]
    fn baselines() {
        // Value 10 at 14:00, 1 otherwise: the seasonal baseline sees only the 10s.
        let four_days = hourly(4, |i| if i % 24 == 14 { 10.0 } else { 1.0 });
        let one_day: Vec<Point> = (0..10).map(|i| (t(i * 10), i as f64)).collect();
        let at_day5_14h = t((4 * 24 + 14) * 60 + 30);
        let cases: [(&str, &[Point], DateTime<Utc>, Option<(BaselineKind, f64, f64, usize)>); 6] = [
            ("4 days hourly", &four_days, at_day5_14h, Some((BaselineKind::Seasonal, 10.0, 0.0, 4))),
            ("4 days, at 03:00", &four_days, t((4 * 24 + 3) * 60), Some((BaselineKind::Seasonal, 1.0, 0.0, 4))),
            ("2 previous days only", &four_days[48..], at_day5_14h, Some((BaselineKind::Rolling, 1.0, 0.0, 48))),
            ("10 points of one day", &one_day, t(120), Some((BaselineKind::Rolling, 4.5, 2.5, 10))),
            ("5 points", &one_day[..5], t(120), None),
            ("empty", &[], t(0), None),
        ];
        for (name, history, at, expected) in cases {
            let got = baseline(history, at).map(|b| (b.kind, b.median, b.mad, b.samples));
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn anomalies() {
        // 2 errors per 5 minutes for 3 hours.
        let flat: Vec<Point> = (0..36).map(|i| (t(i * 5), 2.0)).collect();
        // Between 10 and 50 requests: median 30, MAD 10.
        let noisy: Vec<Point> = (0..40).map(|i| (t(i * 5), [10.0, 20.0, 30.0, 40.0, 50.0][i as usize % 5])).collect();
        // 100, 101, 102: median 101, MAD 1, floored to 5% of the median.
        let tight: Vec<Point> = (0..36).map(|i| (t(i * 5), 100.0 + (i % 3) as f64)).collect();
        let now = t(200);
        // (name, history, value, min_abs, both, expected (direction, ratio))
        let cases: [(&str, &[Point], f64, f64, bool, Option<(&str, f64)>); 10] = [
            ("flat, 20 errors", &flat, 20.0, 1.0, false, Some(("above", 10.0))),
            ("flat, 3 errors", &flat, 3.0, 1.0, false, None),
            ("flat, 4 errors: z 2", &flat, 4.0, 1.0, false, None),
            ("flat, 0 errors, one direction", &flat, 0.0, 1.0, false, None),
            ("flat, 0 errors, both: within min_abs", &flat, 0.0, 1.0, true, None),
            ("noisy, inside spread", &noisy, 45.0, 1.0, true, None),
            ("noisy, far above", &noisy, 200.0, 1.0, false, Some(("above", 200.0 / 30.0))),
            ("tight, high z but under twice", &tight, 150.0, 1.0, false, None),
            ("tight, twice and more", &tight, 250.0, 1.0, false, Some(("above", 250.0 / 101.0))),
            ("no history", &[], 100.0, 1.0, true, None),
        ];
        for (name, history, value, min_abs, both, expected) in cases {
            let got = anomaly(history, now, value, min_abs, both);
            match (got, expected) {
                (None, None) => {}
                (Some(a), Some((direction, ratio))) => {
                    assert_eq!(a.direction, direction, "{name}");
                    assert!(close(a.ratio, ratio), "{name}: ratio {}", a.ratio);
                    assert!(a.score > 3.5, "{name}: score {}", a.score);
                    assert_eq!(a.value, value, "{name}");
                }
                (got, expected) => panic!("{name}: got {got:?}, expected {expected:?}"),
            }
        }
        let flat20 = anomaly(&flat, now, 20.0, 1.0, false).unwrap();
        assert!(close(flat20.score, 18.0), "score = (20 - 2) / max(0.1, 1)");
        assert_eq!(flat20.baseline.kind, BaselineKind::Rolling);
    }

    #[test]
    fn anomaly_below() {
        let steady: Vec<Point> = (0..36).map(|i| (t(i * 5), 100.0 + (i % 3) as f64)).collect();
        let cases = [(10.0, true, Some("below")), (10.0, false, None), (80.0, true, None), (0.0, true, Some("below"))];
        for (value, both, expected) in cases {
            let got = anomaly(&steady, t(200), value, 1.0, both).map(|a| a.direction);
            assert_eq!(got, expected, "value {value}, both {both}");
        }
        // Zero median and zero min_abs: finite figures, no panic.
        let zeros: Vec<Point> = (0..10).map(|i| (t(i), 0.0)).collect();
        let a = anomaly(&zeros, t(20), 5.0, 0.0, true).unwrap();
        assert!(a.score.is_finite() && a.ratio.is_finite());
    }

    #[test]
    fn trends() {
        let line = |f: &dyn Fn(i64) -> f64, n: i64| -> Vec<Point> { (0..n).map(|i| (t(i * 60), f(i))).collect() };
        let rising = line(&|i| 10.0 + 2.0 * i as f64, 12);
        let falling = line(&|i| 100.0 - 5.0 * i as f64, 12);
        let constant = line(&|_| 7.0, 12);
        let zigzag = line(&|i| if i % 2 == 0 { 10.0 } else { 30.0 }, 12);
        let gentle = line(&|i| 1000.0 + i as f64, 12);
        let zero = line(&|_| 0.0, 5);
        let same_time: Vec<Point> = (0..5).map(|i| (t(0), i as f64)).collect();
        // (name, points, (direction, strength, slope))
        let cases: [(&str, &[Point], Option<(&str, &str, f64)>); 9] = [
            ("rising", &rising, Some(("rising", "strong", 2.0))),
            ("falling", &falling, Some(("falling", "strong", -5.0))),
            ("constant", &constant, Some(("flat", "weak", 0.0))),
            ("zigzag", &zigzag, Some(("flat", "weak", zigzag_slope()))),
            ("gentle: 1% over the span", &gentle, Some(("flat", "strong", 1.0))),
            ("zero", &zero, Some(("flat", "weak", 0.0))),
            ("two points", &rising[..2], None),
            ("no span", &same_time, None),
            ("empty", &[], None),
        ];
        for (name, points, expected) in cases {
            let got = trend(points);
            match (got, expected) {
                (None, None) => {}
                (Some(tr), Some((direction, strength, slope))) => {
                    assert_eq!((tr.direction, tr.strength), (direction, strength), "{name}: {tr:?}");
                    assert!(close(tr.slope_per_hour, slope), "{name}: slope {}", tr.slope_per_hour);
                    assert!((0.0..=1.0).contains(&tr.r2), "{name}: r2 {}", tr.r2);
                }
                (got, expected) => panic!("{name}: got {got:?}, expected {expected:?}"),
            }
        }
        let r = trend(&rising).unwrap();
        assert!(close(r.r2, 1.0));
        // slope 2/h over 11 h, mean 21.
        assert!(close(r.relative_change, 22.0 / 21.0));
        // Unsorted input gives the same trend.
        let mut shuffled = rising.clone();
        shuffled.reverse();
        assert_eq!(trend(&shuffled), Some(r));
    }

    /// Least-squares slope of 10, 30, 10, 30, ... over x = 0..12.
    fn zigzag_slope() -> f64 {
        let xs: Vec<f64> = (0..12).map(f64::from).collect();
        let ys: Vec<f64> = (0..12).map(|i| if i % 2 == 0 { 10.0 } else { 30.0 }).collect();
        let (mx, my) = (5.5, 20.0);
        let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
        let sxx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
        sxy / sxx
    }

    #[test]
    fn burst_detection() {
        // One event a minute for an hour; minute 30 has 30 events in all.
        let steady: Vec<DateTime<Utc>> = (0..60).map(t).collect();
        let mut steady_plus: Vec<DateTime<Utc>> = (0..60).map(|m| t(m) + Duration::seconds(5)).collect();
        steady_plus.extend((0..29).map(|s| t(30) + Duration::seconds(10 + s)));
        steady_plus.reverse(); // need not be sorted
        // Two hot minutes in a row, then another one later.
        let mut two: Vec<DateTime<Utc>> = (0..60).map(t).collect();
        two.extend((0..10).map(|_| t(10)));
        two.extend((0..20).map(|_| t(11)));
        two.extend((0..8).map(|_| t(40)));
        // Sparse events: most buckets empty, so the median is 0 and min_count decides.
        let sparse = vec![t(0), t(0), t(0), t(0), t(0), t(100)];
        // (name, events, bucket_secs, min_count, expected (start, end, count, peak) in minutes)
        let cases: [(&str, &[DateTime<Utc>], i64, u64, Vec<(i64, i64, u64, u64)>); 8] = [
            ("steady plus one minute", &steady_plus, 60, 5, vec![(30, 31, 30, 30)]),
            ("merged and separate", &two, 60, 5, vec![(10, 12, 32, 21), (40, 41, 9, 9)]),
            ("steady only", &steady, 60, 5, vec![]),
            ("no events", &[], 60, 5, vec![]),
            ("sparse", &sparse, 60, 5, vec![(0, 1, 5, 5)]),
            ("sparse, high min_count", &sparse, 60, 6, vec![]),
            ("zero bucket", &sparse, 0, 1, vec![]),
            ("negative bucket", &sparse, -60, 1, vec![]),
        ];
        for (name, events, bucket_secs, min_count, expected) in cases {
            let got: Vec<_> = bursts(events, bucket_secs, min_count)
                .into_iter()
                .map(|b| ((b.start - t(0)).num_minutes(), (b.end - t(0)).num_minutes(), b.count, b.peak_per_bucket))
                .collect();
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn burst_median_counts_empty_buckets() {
        let cases: [(&[u64], u64, f64); 6] =
            [(&[], 0, 0.0), (&[4], 1, 4.0), (&[1, 3], 2, 2.0), (&[1, 3], 3, 1.0), (&[1, 3], 4, 0.5), (&[2, 5], 1_000_000_000_000, 0.0)];
        for (nonempty, total, expected) in cases {
            assert_eq!(median_with_zeros(nonempty, total), expected, "{nonempty:?} of {total}");
        }
    }

    fn burst_at(minute: i64, secs: i64) -> Burst {
        let start = t(minute) + Duration::seconds(secs);
        Burst { start, end: start + Duration::minutes(1), count: 10, peak_per_bucket: 10 }
    }

    #[test]
    fn correlations() {
        let named = |name: &str, bursts: Vec<Burst>| (name.to_string(), bursts);
        // (name, series, window, expected (a, b, lead, first))
        let cases: [(&str, Vec<(String, Vec<Burst>)>, i64, Vec<(&str, &str, i64, &str)>); 6] = [
            (
                "60 s apart, a first",
                vec![named("errors", vec![burst_at(10, 0)]), named("latency", vec![burst_at(11, 0)])],
                300,
                vec![("errors", "latency", 60, "errors")],
            ),
            (
                "60 s apart, b first",
                vec![named("errors", vec![burst_at(11, 0)]), named("deploys", vec![burst_at(10, 0)])],
                300,
                vec![("errors", "deploys", -60, "deploys")],
            ),
            ("same time", vec![named("a", vec![burst_at(5, 0)]), named("b", vec![burst_at(5, 0)])], 0, vec![("a", "b", 0, "same time")]),
            (
                "closest pair wins",
                vec![named("a", vec![burst_at(0, 0), burst_at(30, 0)]), named("b", vec![burst_at(4, 0), burst_at(31, 0)])],
                300,
                vec![("a", "b", 60, "a")],
            ),
            ("outside the window", vec![named("a", vec![burst_at(0, 0)]), named("b", vec![burst_at(10, 0)]), named("c", vec![])], 300, vec![]),
            (
                "three series",
                vec![named("a", vec![burst_at(0, 0)]), named("b", vec![burst_at(0, 30)]), named("c", vec![burst_at(2, 0)])],
                120,
                vec![("a", "b", 30, "a"), ("a", "c", 120, "a"), ("b", "c", 90, "b")],
            ),
        ];
        for (name, series, window, expected) in cases {
            let got = correlate(&series, window);
            let got: Vec<_> = got.iter().map(|c| (c.a.as_str(), c.b.as_str(), c.lead_secs, c.first.as_str())).collect();
            assert_eq!(got, expected, "{name}");
        }
        assert!(correlate(&[], 300).is_empty());
    }

    #[test]
    fn reports() {
        let cold = "REPORT RequestId: 3f0a2c1e-8b5d-4c1a-9f0e-2b7d6c5a4e31\tDuration: 102.25 ms\tBilled Duration: 103 ms\tMemory Size: 256 MB\tMax Memory Used: 71 MB\tInit Duration: 180.12 ms";
        let warm = "REPORT RequestId: 3f0a2c1e-8b5d-4c1a-9f0e-2b7d6c5a4e31 Duration: 2.50 ms Billed Duration: 3 ms Memory Size: 128 MB Max Memory Used: 64 MB";
        let xray = "REPORT RequestId: abc\tDuration: 10.00 ms\tBilled Duration: 10 ms\tMemory Size: 512 MB\tMax Memory Used: 90 MB\t\nXRAY TraceId: 1-5e1b4151-5ac6c58f5b5daa6532e4f2e8\tSegmentId: 6b3e2e1f\tSampled: true\t";
        let report = |d, b, m, u, i| Some(LambdaReport { duration_ms: d, billed_ms: b, memory_size_mb: m, max_memory_used_mb: u, init_duration_ms: i });
        let cases = [
            ("cold start", cold, report(102.25, 103.0, 256, 71, Some(180.12))),
            ("warm", warm, report(2.5, 3.0, 128, 64, None)),
            ("xray", xray, report(10.0, 10.0, 512, 90, None)),
            (
                "leading space",
                "  REPORT RequestId: x Duration: 1 ms Billed Duration: 1 ms Memory Size: 128 MB Max Memory Used: 50 MB",
                report(1.0, 1.0, 128, 50, None),
            ),
            ("START line", "START RequestId: 3f0a2c1e Version: $LATEST", None),
            ("END line", "END RequestId: 3f0a2c1e", None),
            ("plain log", "ERROR Database timeout after 30 s", None),
            ("REPORT inside", "user REPORT RequestId: x Duration: 1 ms Billed Duration: 1 ms Memory Size: 128 MB Max Memory Used: 50 MB", None),
            ("missing memory used", "REPORT RequestId: x Duration: 1 ms Billed Duration: 1 ms Memory Size: 128 MB", None),
            ("bad number", "REPORT RequestId: x Duration: fast Billed Duration: 1 ms Memory Size: 128 MB Max Memory Used: 50 MB", None),
            ("negative", "REPORT RequestId: x Duration: -1 ms Billed Duration: 1 ms Memory Size: 128 MB Max Memory Used: 50 MB", None),
            ("truncated", "REPORT RequestId: x Duration:", None),
            ("empty", "", None),
        ];
        for (name, line, expected) in cases {
            assert_eq!(parse_report(line), expected, "{name}");
        }
    }

    fn reports_of(configured: u32, used: &[u32], billed_ms: f64) -> Vec<LambdaReport> {
        used.iter()
            .map(|&u| LambdaReport { duration_ms: billed_ms, billed_ms, memory_size_mb: configured, max_memory_used_mb: u, init_duration_ms: None })
            .collect()
    }

    #[test]
    fn memory_advices() {
        let used_100: Vec<u32> = (0..100).map(|i| 60 + (i % 41)).collect(); // 60..=100
        // (name, reports, window_hours, expected (recommended, peak, p95, saving > 0))
        let cases: [(&str, Vec<LambdaReport>, f64, Option<(u32, u32, u32, bool)>); 8] = [
            ("1024 MB, peak 100", reports_of(1024, &used_100, 200.0), 24.0, Some((192, 100, 98, true))),
            ("256 MB, peak 250", reports_of(256, &[200, 250, 240], 100.0), 1.0, Some((384, 250, 250, false))),
            ("256 MB, peak 220: fits", reports_of(256, &[220, 210], 100.0), 1.0, Some((256, 220, 220, false))),
            ("512 MB, peak 20: floor 128", reports_of(512, &[20], 100.0), 1.0, Some((128, 20, 20, true))),
            ("10240 MB, peak 10000: capped", reports_of(10240, &[10000], 100.0), 1.0, Some((10240, 10000, 10000, false))),
            ("empty", vec![], 24.0, None),
            ("zero window", reports_of(1024, &[100], 100.0), 0.0, None),
            ("negative window", reports_of(1024, &[100], 100.0), -1.0, None),
        ];
        for (name, reports, window, expected) in cases {
            let got = memory_advice(&reports, window);
            let summary = got.as_ref().map(|a| (a.recommended_mb, a.peak_used_mb, a.p95_used_mb, a.monthly_saving_usd > 0.0));
            assert_eq!(summary, expected, "{name}: {got:?}");
            if let Some(a) = got {
                assert!(a.monthly_saving_usd >= 0.0, "{name}");
                assert!(!a.reason.is_empty() && a.reason.ends_with('.'), "{name}: {}", a.reason);
            }
        }
        // 100 invocations in 24 h, 200 ms each, 832 MB less.
        let a = memory_advice(&reports_of(1024, &used_100, 200.0), 24.0).unwrap();
        let expected = 100.0 / 24.0 * 730.0 * 0.2 * 832.0 / 1024.0 * 0.000_016_666_7;
        assert!(close(a.monthly_saving_usd, expected), "{}", a.monthly_saving_usd);
        assert!(a.reason.contains("less CPU"), "{}", a.reason);
        assert!(a.reason.contains("192 MB"), "{}", a.reason);
        let more = memory_advice(&reports_of(256, &[250], 100.0), 1.0).unwrap();
        assert_eq!(more.monthly_saving_usd, 0.0);
        assert!(more.reason.contains("raise"), "{}", more.reason);
    }

    #[test]
    fn a_step_change_is_not_flat() {
        let t0 = chrono::Utc::now();
        let step: Vec<Point> = (0..12).map(|h| (t0 + chrono::Duration::hours(h), if h >= 9 { 10.0 } else { 2.0 })).collect();
        assert_eq!(trend(&step).unwrap().direction, "rising");
        // Noisy before, a fivefold rise at the end: no line fits (r2 < 0.3), the level shifted.
        let noisy: Vec<Point> = (0..40)
            .map(|h| {
                (
                    t0 + chrono::Duration::hours(h),
                    if h >= 36 {
                        if h % 2 == 0 { 0.0 } else { 20.0 }
                    } else if h % 2 == 0 {
                        0.0
                    } else {
                        4.0
                    },
                )
            })
            .collect();
        let tr = trend(&noisy).unwrap();
        assert!(tr.r2 < 0.3, "{tr:?}");
        assert_eq!((tr.direction, tr.strength), ("rising", "step"), "{tr:?}");
        let down: Vec<Point> = (0..12).map(|h| (t0 + chrono::Duration::hours(h), if h >= 9 { 1.0 } else { 10.0 })).collect();
        assert_eq!(trend(&down).unwrap().direction, "falling");
        let noise: Vec<Point> = (0..12).map(|h| (t0 + chrono::Duration::hours(h), if h % 2 == 0 { 5.0 } else { 6.0 })).collect();
        assert_eq!(trend(&noise).unwrap().direction, "flat");
    }
}
