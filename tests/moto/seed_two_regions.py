#!/usr/bin/env python3
"""Seeds a running moto (e.g. `tests/moto/launcher.py 5000 --no-stdin-watch`) with the two-region
setup of tests/aws_common/mod.rs and writes the matching environment file, to look at the console
against the emulator by hand:

    python tests/moto/launcher.py 5000 --no-stdin-watch &
    python tests/moto/seed_two_regions.py http://127.0.0.1:5000 /tmp/aws.toml [LAG_SECS]
    AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \\
        warroom --env /tmp/aws.toml --endpoint-url http://127.0.0.1:5000
"""

import datetime
import pathlib
import sys

import boto3


def main():
    endpoint, out = sys.argv[1], sys.argv[2]
    lag = float(sys.argv[3]) if len(sys.argv) > 3 else 4.0
    kw = dict(endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing")
    west = boto3.client("rds", region_name="us-west-2", **kw)
    east = boto3.client("rds", region_name="us-east-1", **kw)
    primary = west.create_db_instance(
        DBInstanceIdentifier="pynomaly-prod",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="warroom",
        MasterUserPassword="not-a-secret-1",
        AllocatedStorage=20,
        MultiAZ=True,
        BackupRetentionPeriod=7,
    )["DBInstance"]
    west.create_db_snapshot(
        DBInstanceIdentifier="pynomaly-prod", DBSnapshotIdentifier="pynomaly-prod-manual-1"
    )
    east.create_db_instance_read_replica(
        DBInstanceIdentifier="pynomaly-dr",
        SourceDBInstanceIdentifier=primary["DBInstanceArn"],
        DBInstanceClass="db.t3.micro",
    )
    boto3.client("cloudwatch", region_name="us-east-1", **kw).put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": "ReplicaLag",
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": "pynomaly-dr"}],
                "Value": lag,
                "Unit": "Seconds",
                "Timestamp": datetime.datetime.now(datetime.timezone.utc),
            }
        ],
    )
    r53 = boto3.client("route53", region_name="us-east-1", **kw)
    zone = r53.create_hosted_zone(Name="pynomaly.example", CallerReference="seed")["HostedZone"]
    zone_id = zone["Id"].split("/")[-1]
    r53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": "api.pynomaly.example",
                        "Type": "CNAME",
                        "TTL": 60,
                        "ResourceRecords": [{"Value": "api-usw2.pynomaly.example"}],
                    },
                }
            ]
        },
    )
    checks = []
    for fqdn in ("api-usw2.pynomaly.example", "api-use1.pynomaly.example"):
        checks.append(
            r53.create_health_check(
                CallerReference=fqdn,
                HealthCheckConfig={"Type": "HTTPS", "FullyQualifiedDomainName": fqdn, "ResourcePath": "/health"},
            )["HealthCheck"]["Id"]
        )
    fixture = pathlib.Path(__file__).resolve().parent.parent / "fixtures/env/aws-two-region.toml"
    text = (
        fixture.read_text()
        .replace("@ZONE@", zone_id)
        .replace("@HC_PRIMARY@", checks[0])
        .replace("@HC_DR@", checks[1])
    )
    pathlib.Path(out).write_text(text)
    print(f"seeded; environment written to {out}; health checks {checks[0]} (primary) {checks[1]} (dr)")


if __name__ == "__main__":
    main()
