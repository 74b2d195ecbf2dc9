#!/usr/bin/env python3
"""moto's standalone server with what warroom's AWS tests need on top.

Started by tests/aws_common/mod.rs (and by the benchmark); serves on 127.0.0.1 on a free port and
prints `READY <port>` once it listens. It exits when its standard input closes, so a test process
that dies never leaves a server behind.

On top of plain moto (tested with moto 5.2.5):

- **Call log**: every AWS call is counted as `service:Operation` (e.g. `rds:DescribeDBInstances`,
  `route53:GetHealthCheckStatus`) with its region and, for query-protocol calls, its parameters.
  `GET /warroom-test/calls` returns `{"counts": {...}, "log": [...]}`.
- **Faults**: `POST /warroom-test/fault` with `{"operation": "rds:DescribeDBInstances",
  "code": "Throttling", "status": 400, "count": 5, "delay_secs": 0}` answers the next `count`
  calls of that operation (`-1`: all of them; `"*"`: any operation) with that AWS error after
  `delay_secs` (a delay without `code` answers normally, late: for timeout tests).
- **Health check verdicts**: moto 5.2.5 hard-codes GetHealthCheckStatus to success.
  `POST /warroom-test/health` with `{"id": "<health check id>", "statuses": ["Failure: ...", ...]}`
  makes it report one checker observation per status (`"statuses": null` restores moto's answer).
- **PromoteReadReplica**: moto 5.2.5 answers it but leaves the replica attached to its source
  (ReadReplicaSourceDBInstanceIdentifier unchanged). Here a promoted instance is detached, as on
  AWS once the promotion completes.
- `POST /warroom-test/reset` clears the log, faults and overrides (moto's own state is reset with
  `POST /moto-api/reset`).
"""

import io
import json
import logging
import os
import re
import sys
import threading
import time
import urllib.parse

from werkzeug.serving import make_server

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.rds import models as rds_models
from moto.route53 import responses as route53_responses

try:
    from moto.moto_server.werkzeug_app import MotoRequestHandler
except ImportError:  # older moto
    MotoRequestHandler = None

LOCK = threading.Lock()
STATE = {"counts": {}, "log": [], "faults": [], "health": {}}
LOG_LIMIT = 20_000


# --- behaviour moto lacks -------------------------------------------------------------------

_original_promote = rds_models.RDSBackend.promote_read_replica


def _promote_and_detach(self, db_kwargs):
    database = self.databases.get(db_kwargs.get("db_instance_identifier"))
    source = getattr(database, "source_db_instance_identifier", None)
    result = _original_promote(self, db_kwargs)
    if database is not None and source:
        try:
            primary = self.find_db_from_id(source)
            for entry in (database.db_instance_arn, database.db_instance_identifier):
                if entry in primary.replicas:
                    primary.replicas.remove(entry)
        except Exception:  # the source may be gone already; detaching is what matters
            pass
        database.source_db_instance_identifier = None
        database.is_replica = False
    return result


rds_models.RDSBackend.promote_read_replica = _promote_and_detach

_original_health_status = route53_responses.Route53.get_health_check_status


def _health_status(self):
    health_check_id = self._get_param("HealthCheckId")
    with LOCK:
        statuses = STATE["health"].get(health_check_id)
    if statuses is None:
        return _original_health_status(self)
    self.backend.get_health_check(health_check_id)
    regions = ["us-east-1", "us-west-1", "eu-west-1", "ap-southeast-1", "sa-east-1", "us-west-2"]
    observations = []
    for i, status in enumerate(statuses):
        observations.append(
            {
                "Region": regions[i % len(regions)],
                "IPAddress": f"127.0.13.{i + 1}",
                "StatusReport": {"Status": status, "CheckedTime": utcnow()},
            }
        )
    return ActionResult({"HealthCheckObservations": observations})


route53_responses.Route53.get_health_check_status = _health_status


# --- naming calls ---------------------------------------------------------------------------

CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")

ROUTE53_ROUTES = [
    ("GET", r"/healthcheck/[^/]+/status$", "GetHealthCheckStatus"),
    ("GET", r"/healthcheck/[^/]+$", "GetHealthCheck"),
    ("GET", r"/healthcheck$", "ListHealthChecks"),
    ("POST", r"/healthcheck$", "CreateHealthCheck"),
    ("POST", r"/hostedzone/[^/]+/rrset/?$", "ChangeResourceRecordSets"),
    ("GET", r"/hostedzone/[^/]+/rrset/?$", "ListResourceRecordSets"),
    ("GET", r"/change/[^/]+$", "GetChange"),
    ("POST", r"/hostedzone$", "CreateHostedZone"),
    ("GET", r"/hostedzone$", "ListHostedZones"),
    ("GET", r"/hostedzone/[^/]+$", "GetHostedZone"),
]


def name_call(environ, body):
    """(service, region, operation, params) of one request."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    m = CREDENTIAL_SCOPE.search(auth)
    service, region = (m.group(2), m.group(1)) if m else ("?", "?")
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return service, region, target.split(".")[-1], {}
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "")
    if service == "route53":
        for verb, pattern, op in ROUTE53_ROUTES:
            if verb == method and re.search(pattern, path):
                return service, region, op, {}
        return service, region, f"{method} {path}", {}
    params = {}
    if body:
        try:
            params = dict(urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            params = {}
    if not params.get("Action"):
        query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
        params.update(query)
    return service, region, params.pop("Action", f"{method} {path}"), params


def error_response(start_response, status, code, message):
    body = (
        "<ErrorResponse><Error><Type>Sender</Type>"
        f"<Code>{code}</Code><Message>{message}</Message></Error>"
        "<RequestId>warroom-test-fault</RequestId></ErrorResponse>"
    ).encode()
    start_response(
        f"{status} Error",
        [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))],
    )
    return [body]


def json_response(start_response, value):
    body = json.dumps(value).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


# --- the middleware -------------------------------------------------------------------------


class Warroom:
    def __init__(self, app):
        self.app = app

    def control(self, environ, start_response, body):
        path = environ.get("PATH_INFO", "")
        data = json.loads(body or b"{}") if environ.get("REQUEST_METHOD") == "POST" else {}
        with LOCK:
            if path.endswith("/calls"):
                return json_response(
                    start_response, {"counts": dict(STATE["counts"]), "log": list(STATE["log"])}
                )
            if path.endswith("/reset"):
                STATE["counts"].clear()
                STATE["log"].clear()
                STATE["faults"].clear()
                STATE["health"].clear()
                return json_response(start_response, {"ok": True})
            if path.endswith("/fault"):
                data.setdefault("count", 1)
                data.setdefault("status", 400)
                data.setdefault("delay_secs", 0)
                STATE["faults"].append(data)
                return json_response(start_response, {"ok": True})
            if path.endswith("/health"):
                if data.get("statuses") is None:
                    STATE["health"].pop(data["id"], None)
                else:
                    STATE["health"][data["id"]] = list(data["statuses"])
                return json_response(start_response, {"ok": True})
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"unknown warroom-test endpoint"]

    def take_fault(self, name):
        for fault in STATE["faults"]:
            if fault["operation"] in (name, "*") and fault["count"] != 0:
                if fault["count"] > 0:
                    fault["count"] -= 1
                return dict(fault)
        return None

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        if environ.get("PATH_INFO", "").startswith("/warroom-test/"):
            return self.control(environ, start_response, body)
        if environ.get("PATH_INFO", "").startswith("/moto-api"):
            return self.app(environ, start_response)
        service, region, op, params = name_call(environ, body)
        name = f"{service}:{op}"
        with LOCK:
            STATE["counts"][name] = STATE["counts"].get(name, 0) + 1
            if len(STATE["log"]) < LOG_LIMIT:
                STATE["log"].append(
                    {"operation": name, "region": region, "params": params, "at": time.time()}
                )
            fault = self.take_fault(name)
        if fault:
            if fault["delay_secs"]:
                time.sleep(fault["delay_secs"])
            if fault.get("code"):
                message = fault.get("message", "injected by the warroom test launcher")
                return error_response(start_response, fault["status"], fault["code"], message)
        return self.app(environ, start_response)


def main():
    # One line per request on stderr costs time under load and says nothing the call log does not.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = DomainDispatcherApplication(create_backend_app)
    kwargs = {"threaded": True}
    if MotoRequestHandler is not None:
        kwargs["request_handler"] = MotoRequestHandler
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = make_server("127.0.0.1", port, Warroom(app), **kwargs)
    os.environ["MOTO_PORT"] = str(server.port)

    def exit_when_stdin_closes():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            os._exit(0)

    if not (len(sys.argv) > 2 and sys.argv[2] == "--no-stdin-watch"):
        threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    print(f"READY {server.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
