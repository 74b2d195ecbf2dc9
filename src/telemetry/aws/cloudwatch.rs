//! Replica lag from CloudWatch: the `AWS/RDS` `ReplicaLag` metric of every replica of a region
//! in one `GetMetricData` call (up to [`MAX_QUERIES_PER_CALL`] replicas; more are split into as
//! few calls as that allows), never one call per metric.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::primitives::DateTime as AwsDateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};
use chrono::{DateTime, TimeDelta, Utc};

use super::CallError;

/// CloudWatch's limit of queries in one `GetMetricData` request.
pub const MAX_QUERIES_PER_CALL: usize = 500;
/// RDS publishes `ReplicaLag` every minute.
pub const PERIOD_SECS: i32 = 60;
/// How far back to look for the newest datapoint: a replica whose metric stopped arriving longer
/// ago than this has unknown lag.
pub const LOOKBACK: TimeDelta = TimeDelta::minutes(10);

/// The queries for `instances` (RDS instance identifiers), one list per request: the n-th list
/// covers `instances[n * MAX_QUERIES_PER_CALL..]`, and its query ids are `m<index in the list>`.
pub fn lag_queries(instances: &[String]) -> Vec<Vec<MetricDataQuery>> {
    instances
        .chunks(MAX_QUERIES_PER_CALL)
        .map(|chunk| {
            chunk
                .iter()
                .enumerate()
                .map(|(i, id)| lag_query(i, id))
                .collect()
        })
        .collect()
}

fn lag_query(index: usize, instance: &str) -> MetricDataQuery {
    MetricDataQuery::builder()
        .id(format!("m{index}"))
        .metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .namespace("AWS/RDS")
                        .metric_name("ReplicaLag")
                        .dimensions(
                            Dimension::builder()
                                .name("DBInstanceIdentifier")
                                .value(instance)
                                .build(),
                        )
                        .build(),
                )
                .period(PERIOD_SECS)
                .stat("Maximum")
                .build(),
        )
        .return_data(true)
        .build()
}

/// Folds one response page into `lag`: the newest value of each query (results are scanned
/// newest first).
pub fn fold_results(
    instances: &[String],
    results: &[aws_sdk_cloudwatch::types::MetricDataResult],
    lag: &mut BTreeMap<String, f64>,
) {
    for r in results {
        let Some(index) = r
            .id()
            .and_then(|id| id.strip_prefix('m'))
            .and_then(|n| n.parse::<usize>().ok())
        else {
            continue;
        };
        let Some(instance) = instances.get(index) else {
            continue;
        };
        // With TimestampDescending the first value is the newest; pick by timestamp anyway, so
        // a server that ignores ScanBy cannot show stale lag.
        let newest = r
            .timestamps()
            .iter()
            .zip(r.values())
            .max_by_key(|(t, _)| (t.secs(), t.subsec_nanos()))
            .map(|(_, v)| *v)
            .or_else(|| r.values().first().copied());
        if let Some(v) = newest {
            lag.entry(instance.clone()).or_insert(v);
        }
    }
}

/// The newest `ReplicaLag` (seconds) of each of `instances` at `now`; instances without a
/// datapoint in the last [`LOOKBACK`] are absent.
pub async fn replica_lag(
    client: &aws_sdk_cloudwatch::Client,
    region: &str,
    instances: &[String],
    now: DateTime<Utc>,
) -> Result<BTreeMap<String, f64>, CallError> {
    let mut lag = BTreeMap::new();
    if instances.is_empty() {
        return Ok(lag);
    }
    let start = AwsDateTime::from_secs((now - LOOKBACK).timestamp());
    // One period past now: the current minute's datapoint counts.
    let end =
        AwsDateTime::from_secs((now + TimeDelta::seconds(i64::from(PERIOD_SECS))).timestamp());
    for (batch, ids) in lag_queries(instances)
        .into_iter()
        .zip(instances.chunks(MAX_QUERIES_PER_CALL))
    {
        let mut next: Option<String> = None;
        loop {
            let out = client
                .get_metric_data()
                .set_metric_data_queries(Some(batch.clone()))
                .start_time(start)
                .end_time(end)
                .scan_by(ScanBy::TimestampDescending)
                .set_next_token(next.take())
                .send()
                .await
                .map_err(|e| {
                    CallError::from_sdk(format!("cloudwatch:GetMetricData in {region}"), &e)
                })?;
            fold_results(ids, out.metric_data_results(), &mut lag);
            match out.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_string()),
                _ => break,
            }
        }
    }
    Ok(lag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudwatch::types::MetricDataResult;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("db-{i}")).collect()
    }

    #[test]
    fn one_request_for_up_to_500_replicas() {
        assert_eq!(lag_queries(&ids(1)).len(), 1);
        assert_eq!(lag_queries(&ids(500)).len(), 1);
        let split = lag_queries(&ids(501));
        assert_eq!(split.len(), 2);
        assert_eq!((split[0].len(), split[1].len()), (500, 1));
        // Ids restart per request: the 501st replica is `m0` of the second one.
        assert_eq!(split[1][0].id(), Some("m0"));
        assert!(lag_queries(&[]).is_empty());
    }

    #[test]
    fn queries_ask_for_replica_lag_of_each_instance() {
        let q = &lag_queries(&ids(3))[0];
        assert_eq!(q[2].id(), Some("m2"));
        let stat = q[2].metric_stat().expect("metric stat");
        assert_eq!(stat.stat(), Some("Maximum"));
        assert_eq!(stat.period(), Some(60));
        let metric = stat.metric().expect("metric");
        assert_eq!(metric.namespace(), Some("AWS/RDS"));
        assert_eq!(metric.metric_name(), Some("ReplicaLag"));
        let dim = &metric.dimensions()[0];
        assert_eq!(
            (dim.name(), dim.value()),
            (Some("DBInstanceIdentifier"), Some("db-2"))
        );
    }

    #[test]
    fn newest_value_wins_and_unknown_ids_are_ignored() {
        let instances = ids(2);
        let results = vec![
            MetricDataResult::builder()
                .id("m1")
                .timestamps(AwsDateTime::from_secs(100))
                .values(7.0)
                .timestamps(AwsDateTime::from_secs(160))
                .values(9.0)
                .build(),
            MetricDataResult::builder().id("m7").values(1.0).build(),
            MetricDataResult::builder().id("x").values(1.0).build(),
            MetricDataResult::builder().id("m0").build(),
        ];
        let mut lag = BTreeMap::new();
        fold_results(&instances, &results, &mut lag);
        assert_eq!(lag, BTreeMap::from([("db-1".to_string(), 9.0)]));
    }
}
