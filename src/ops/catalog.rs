//! The CloudWatch metrics of each kind of service, once, with what each is
//! read for: health (thresholds and the baseline), performance (figures and
//! trends), investigate (anomalies in the timeline). Pure data.

use super::services::Kind;

/// Read by check-health.
pub const HEALTH: u8 = 1;
/// Read by analyze-performance.
pub const PERFORMANCE: u8 = 2;
/// Watched for anomalies by investigate.
pub const INVESTIGATE: u8 = 4;

/// One metric statistic of a kind of service.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricDef {
    /// A short stable name (`errors`, `duration_max`), used by the judges.
    pub key: &'static str,
    pub namespace: &'static str,
    pub metric: &'static str,
    pub stat: &'static str,
    /// The smallest change worth calling an anomaly.
    pub min_abs: f64,
    /// Which operations read it (`HEALTH | PERFORMANCE | INVESTIGATE`).
    pub uses: u8,
}

const fn m(key: &'static str, namespace: &'static str, metric: &'static str, stat: &'static str, min_abs: f64, uses: u8) -> MetricDef {
    MetricDef { key, namespace, metric, stat, min_abs, uses }
}

const ALL: u8 = HEALTH | PERFORMANCE | INVESTIGATE;
const HP: u8 = HEALTH | PERFORMANCE;

const LAMBDA: &[MetricDef] = &[
    m("invocations", "AWS/Lambda", "Invocations", "Sum", 5.0, HP),
    m("errors", "AWS/Lambda", "Errors", "Sum", 1.0, ALL),
    m("throttles", "AWS/Lambda", "Throttles", "Sum", 1.0, ALL),
    m("duration_max", "AWS/Lambda", "Duration", "Maximum", 50.0, HP),
    m("duration_avg", "AWS/Lambda", "Duration", "Average", 50.0, ALL),
    m("concurrency", "AWS/Lambda", "ConcurrentExecutions", "Maximum", 2.0, HP),
];
const HTTP_API: &[MetricDef] = &[
    m("count", "AWS/ApiGateway", "Count", "Sum", 5.0, HP),
    m("5xx", "AWS/ApiGateway", "5xx", "Sum", 1.0, ALL),
    m("latency", "AWS/ApiGateway", "Latency", "Average", 50.0, ALL),
];
const REST_API: &[MetricDef] = &[
    m("count", "AWS/ApiGateway", "Count", "Sum", 5.0, HP),
    m("5xx", "AWS/ApiGateway", "5XXError", "Sum", 1.0, ALL),
    m("latency", "AWS/ApiGateway", "Latency", "Average", 50.0, ALL),
];
const SQS: &[MetricDef] = &[
    m("sent", "AWS/SQS", "NumberOfMessagesSent", "Sum", 10.0, PERFORMANCE),
    m("oldest_age", "AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum", 60.0, ALL),
    m("visible", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", 10.0, HEALTH),
];
const DYNAMODB: &[MetricDef] = &[
    m("read", "AWS/DynamoDB", "ConsumedReadCapacityUnits", "Sum", 10.0, PERFORMANCE),
    m("write", "AWS/DynamoDB", "ConsumedWriteCapacityUnits", "Sum", 10.0, PERFORMANCE),
    m("throttled", "AWS/DynamoDB", "ThrottledRequests", "Sum", 1.0, ALL),
    m("system_errors", "AWS/DynamoDB", "SystemErrors", "Sum", 1.0, HEALTH),
];
const RDS: &[MetricDef] = &[
    m("cpu", "AWS/RDS", "CPUUtilization", "Average", 10.0, ALL),
    m("free_storage", "AWS/RDS", "FreeStorageSpace", "Minimum", 1e9, HEALTH),
    m("connections", "AWS/RDS", "DatabaseConnections", "Maximum", 10.0, ALL),
    m("read_latency", "AWS/RDS", "ReadLatency", "Average", 0.01, PERFORMANCE),
];
const ECS: &[MetricDef] = &[m("cpu", "AWS/ECS", "CPUUtilization", "Average", 10.0, ALL), m("memory", "AWS/ECS", "MemoryUtilization", "Average", 10.0, HP)];

/// The metrics of `kind` that `for_use` reads, in a stable order.
pub fn metrics(kind: Kind, for_use: u8) -> impl Iterator<Item = &'static MetricDef> {
    let table = match kind {
        Kind::Lambda => LAMBDA,
        Kind::HttpApi => HTTP_API,
        Kind::RestApi => REST_API,
        Kind::Sqs => SQS,
        Kind::Dynamodb => DYNAMODB,
        Kind::Rds => RDS,
        Kind::EcsService => ECS,
    };
    table.iter().filter(move |d| d.uses & for_use != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_metrics_for_every_use_and_keys_are_unique() {
        for kind in [Kind::Lambda, Kind::HttpApi, Kind::RestApi, Kind::EcsService, Kind::Rds, Kind::Sqs, Kind::Dynamodb] {
            for u in [HEALTH, PERFORMANCE, INVESTIGATE] {
                assert!(metrics(kind, u).next().is_some(), "{kind:?} {u}");
            }
            let mut keys: Vec<&str> = metrics(kind, HEALTH | PERFORMANCE | INVESTIGATE).map(|d| d.key).collect();
            let n = keys.len();
            keys.dedup();
            assert_eq!(keys.len(), n, "{kind:?}");
        }
    }
}
