#!/usr/bin/env python3
"""The baseline `warroom status --json` is measured against: a plain boto3 script that makes the
same reads one by one, the way a hand-written DR dashboard script would.

For every database: DescribeDBInstances (one instance per call); for every replica:
GetMetricData for its ReplicaLag (one metric per call); for every snapshot series:
DescribeDBSnapshots (one instance per call); for every health check: GetHealthCheckStatus; for
every DNS record: ListResourceRecordSets.

Usage: aws_boto3_baseline.py ENV_FILE ENDPOINT_URL
Reads the same warroom environment file (TOML) and prints one JSON line:
{"calls": N, "read_secs": S, "databases": D, ...}. Credentials come from the usual AWS
variables (the benchmark sets test credentials for the emulator).
"""

import datetime
import json
import sys
import time

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib

import boto3


def main():
    env_path, endpoint = sys.argv[1], sys.argv[2]
    with open(env_path, "rb") as f:
        env = tomllib.load(f)
    regions = {r["name"]: r for r in env["regions"]}
    started = time.monotonic()
    clients = {}

    def client(service, region):
        key = (service, region)
        if key not in clients:
            clients[key] = boto3.client(service, region_name=region, endpoint_url=endpoint)
        return clients[key]

    calls = 0
    now = datetime.datetime.now(datetime.timezone.utc)
    databases, lags = [], {}
    for db in env.get("databases", []):
        region = regions[db["region"]]["id"]
        instance = db["aws"]["instance"]
        rds = client("rds", region)
        found = rds.describe_db_instances(DBInstanceIdentifier=instance)["DBInstances"][0]
        calls += 1
        databases.append((db["name"], found["DBInstanceStatus"]))
        if db.get("replica_of"):
            out = client("cloudwatch", region).get_metric_data(
                MetricDataQueries=[
                    {
                        "Id": "lag",
                        "MetricStat": {
                            "Metric": {
                                "Namespace": "AWS/RDS",
                                "MetricName": "ReplicaLag",
                                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": instance}],
                            },
                            "Period": 60,
                            "Stat": "Maximum",
                        },
                    }
                ],
                StartTime=now - datetime.timedelta(minutes=10),
                EndTime=now + datetime.timedelta(minutes=1),
                ScanBy="TimestampDescending",
            )
            calls += 1
            values = out["MetricDataResults"][0]["Values"]
            lags[db["name"]] = values[0] if values else None
    by_instance = {
        d["aws"]["instance"]: regions[d["region"]]["id"] for d in env.get("databases", [])
    }
    backups = {}
    for b in env.get("backups", []):
        snaps = b["aws_snapshots"]
        region = regions[snaps["region"]]["id"] if "region" in snaps else by_instance[snaps["instance"]]
        kwargs = {"DBInstanceIdentifier": snaps["instance"]}
        if snaps.get("type") in ("automated", "manual"):
            kwargs["SnapshotType"] = snaps["type"]
        out = client("rds", region).describe_db_snapshots(**kwargs)["DBSnapshots"]
        calls += 1
        times = [s["SnapshotCreateTime"] for s in out if s.get("Status") == "available"]
        backups[b["name"]] = max(times).isoformat() if times else None
    checks = {}
    r53 = client("route53", "us-east-1")
    for r in env["regions"]:
        ids = r.get("route53_health_check", [])
        for hc in [ids] if isinstance(ids, str) else ids:
            obs = r53.get_health_check_status(HealthCheckId=hc)["HealthCheckObservations"]
            calls += 1
            checks[hc] = all(o["StatusReport"]["Status"].startswith("Success") for o in obs)
    records = {}
    for d in env.get("dns", []):
        aws = d["aws"]
        out = r53.list_resource_record_sets(
            HostedZoneId=aws["zone"],
            StartRecordName=aws.get("record", d["record"]),
            StartRecordType=aws.get("type", "CNAME"),
            MaxItems="1",
        )
        calls += 1
        records[d["name"]] = out["ResourceRecordSets"][0]["ResourceRecords"][0]["Value"]
    print(
        json.dumps(
            {
                "calls": calls,
                "read_secs": round(time.monotonic() - started, 3),
                "databases": len(databases),
                "replicas_with_lag": sum(v is not None for v in lags.values()),
                "backups": len(backups),
                "health_checks": len(checks),
                "records": len(records),
            }
        )
    )


if __name__ == "__main__":
    main()
