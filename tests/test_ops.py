"""Runtime operations on moto with seeded data, through a real MCP client and
the CLI: check-health (thresholds and the baseline anomaly detector, batched
GetMetricData), query-logs (filter, window, limit, continuation), investigate
(patterns, bursts, correlation, root causes, incident report),
analyze-performance (REPORT lines: cold starts, memory right-sizing) and
remediate through the gate (production: two "yes" answers)."""

import io
import json
import zipfile
from datetime import datetime, timedelta, timezone

import pytest

from conftest import confirm_cli, connect, run_cli

pytestmark = pytest.mark.anyio


def text(r):
    return "\n".join(c.text for c in r.content if getattr(c, "type", "") == "text")


def client(endpoint, service):
    import boto3

    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")


def code_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return {'ok': True}\n")
    return buf.getvalue()


def seed(endpoint, prefix):
    """Two functions in prod: api-handler with a database-timeout error burst now, worker failing a minute later."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    iam = client(endpoint, "iam")
    role = iam.create_role(RoleName=f"{prefix}role", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    lam = client(endpoint, "lambda")
    for name, memory in [("api-handler", 1024), ("worker", 256)]:
        lam.create_function(FunctionName=f"{prefix}{name}", Runtime="python3.12", Role=role, Handler="index.handler", Code={"ZipFile": code_zip()}, Timeout=30, MemorySize=memory, Environment={"Variables": {"TABLE": "orders"}})
    api = f"{prefix}api-handler"
    v1 = lam.publish_version(FunctionName=api)["Version"]
    lam.update_function_configuration(FunctionName=api, Description="v2")
    v2 = lam.publish_version(FunctionName=api)["Version"]
    lam.create_alias(FunctionName=api, Name="live", FunctionVersion=v2)

    cw = client(endpoint, "cloudwatch")
    def put(name, metric, points):
        data = [{"MetricName": metric, "Dimensions": [{"Name": "FunctionName", "Value": f"{prefix}{name}"}], "Timestamp": t, "Value": v, "Unit": "Count"} for t, v in points]
        for i in range(0, len(data), 500):
            cw.put_metric_data(Namespace="AWS/Lambda", MetricData=data[i:i + 500])
    hours = [now - timedelta(hours=h) for h in range(1, 24 * 7)]
    for name in ["api-handler", "worker"]:
        # History: 100 invocations and ~0.1 errors per 5 minutes, every hour for a week.
        put(name, "Invocations", [(t, 1200.0) for t in hours] + [(now - timedelta(minutes=2), 100.0)])
        put(name, "Errors", [(t, 1.0) for t in hours])
        put(name, "Duration", [(t, 120.0) for t in hours] + [(now - timedelta(minutes=2), 130.0)])
    # Now: api-handler errors 40 of 100 (40x normal); worker stays clean.
    put("api-handler", "Errors", [(now - timedelta(minutes=2), 40.0)])

    logs = client(endpoint, "logs")
    def events(name, lines):
        group = f"/aws/lambda/{prefix}{name}"
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="s1")
        batch = sorted(({"timestamp": int(t.timestamp() * 1000), "message": m} for t, m in lines), key=lambda e: e["timestamp"])
        for i in range(0, len(batch), 1000):
            logs.put_log_events(logGroupName=group, logStreamName="s1", logEvents=batch[i:i + 1000])
    api_lines = [(now - timedelta(minutes=50 - i), f"INFO handled request {i} in 12 ms") for i in range(40)]
    api_lines += [(now - timedelta(minutes=10, seconds=-i), f"ERROR Database timeout after 3000ms (request {1000 + i})") for i in range(30)]
    api_lines += [(now - timedelta(minutes=40 - i), f"REPORT RequestId: 3f0a2c1e-8b5d-4c1a-9f0e-2b7d6c5a4e{i:02d}\tDuration: 120.5 ms\tBilled Duration: 121 ms\tMemory Size: 1024 MB\tMax Memory Used: {80 + i % 10} MB" + ("\tInit Duration: 180.2 ms" if i % 5 == 0 else "")) for i in range(30)]
    events("api-handler", api_lines)
    worker_lines = [(now - timedelta(minutes=45 - i), f"INFO job {i} done") for i in range(20)]
    worker_lines += [(now - timedelta(minutes=9, seconds=-i), f"ERROR upstream api returned 503 for job {2000 + i}") for i in range(12)]
    events("worker", worker_lines)
    return api


async def test_runtime_operations_on_moto(project, moto):
    run_cli(project, "config", "init", "--endpoint-url", moto)
    config = json.loads((project / ".fractary/plugins/faber-cloud/devops.json").read_text())
    prefix = f"{config['project']['name']}-core-prod-"
    api = seed(moto, prefix)
    lam = client(moto, "lambda")
    env = {"AWS_MAX_ATTEMPTS": "1"}

    async with connect(project, "auto", extra_env=env) as mcp:
        # check-health: the error spike makes api-handler UNHEALTHY; worker is HEALTHY.
        r = await mcp.call_tool("director", {"request": "check health of production services"})
        assert not r.is_error, text(r)
        health = r.structured_content
        assert health["routed"]["operation"] == "check-health" and health["env"] == "prod"
        by = {s["service"]: s for s in health["services"]}
        assert set(by) == {"api-handler", "worker"}, by.keys()
        assert by["api-handler"]["status"] == "UNHEALTHY", by["api-handler"]
        reasons = " ".join(x["detail"] for x in by["api-handler"]["reasons"])
        assert "error rate 40.0%" in reasons and "× normal" in reasons, reasons
        assert by["worker"]["status"] == "HEALTHY", by["worker"]
        assert health["overall"] == "UNHEALTHY"
        # Batched: never a call per metric per datapoint.
        assert health["aws_calls"] <= 15, health["aws_calls"]
        assert json.loads(open(health["report_path"]).read())["overall"] == "UNHEALTHY"

        # query-logs: filter, window, limit and a continuation.
        r = await mcp.call_tool("ops-manager", {"operation": "query-logs", "env": "prod", "service": "api-lambda", "filter": "ERROR", "timeframe": "2h", "limit": 5})
        assert not r.is_error, text(r)
        logs = r.structured_content
        assert logs["total_matches"] == 30, logs["groups"]
        assert len(logs["events"]) == 5 and all("Database timeout" in e["message"] for e in logs["events"])
        assert logs["events"][0]["at"] >= logs["events"][-1]["at"], "newest first"
        assert logs["continuation"]
        r = await mcp.call_tool("ops-manager", {"operation": "query-logs", "env": "prod", "service": "payments"})
        assert r.is_error and r.structured_content["error"]["field"] == "service" and "api-handler (lambda)" in text(r)

        # investigate: the pattern, the bursts in order, and a dependency root cause.
        r = await mcp.call_tool("ops-manager", {"operation": "investigate", "env": "prod", "timeframe": "24h"})
        assert not r.is_error, text(r)
        inc = r.structured_content
        top = inc["patterns"][0]
        assert "Database timeout" in top["template"] and top["count"] == 30 and top["services"] == ["api-handler"]
        assert any(p["count"] == 12 and "upstream api returned" in p["template"] for p in inc["patterns"]), inc["patterns"]
        kinds = [t["kind"] for t in inc["timeline"]]
        assert "error-burst" in kinds and "anomaly" in kinds, kinds
        assert any(c["first"] == "api-handler" for c in inc["correlations"]), inc["correlations"]
        assert "dependency" in inc["root_causes"][0]["cause"], inc["root_causes"]
        assert json.loads(open(inc["report_path"]).read())["error_events"] == 42

        # analyze-performance: cold starts and memory right-sizing from REPORT lines.
        r = await mcp.call_tool("director", {"request": "analyze performance of API Lambda in production"})
        assert not r.is_error, text(r)
        perf = r.structured_content["services"][0]
        assert perf["service"] == "api-handler"
        assert perf["cold_starts"]["invocations_seen"] == 30 and perf["cold_starts"]["cold_starts"] == 6
        assert perf["memory"]["configured_mb"] == 1024 and perf["memory"]["recommended_mb"] < 1024 and perf["memory"]["monthly_saving_usd"] > 0
        assert any("memory" in x.lower() for x in perf["recommendations"])

        # "fix …" names no remediation: it investigates first, then offers the remediations by number.
        r = await mcp.call_tool("director", {"request": "fix the failing api lambda in production"})
        assert not r.is_error, text(r)
        fix = r.structured_content
        assert fix["status"] == "clarify" and fix["routed"]["operation"] == "investigate", text(r)
        assert "Database timeout" in fix["investigation"]["patterns"][0]["template"]
        assert [c["args"]["action"] for c in fix["then"]["choices"]] == ["restart", "rollback", "scale"]
        assert "To fix it, choose a remediation" in text(r) and "1/2/3" in text(r)
        r = await mcp.call_tool("director", {"request": "1", "clarification_id": fix["then"]["clarification_id"]})
        pending = r.structured_content
        assert pending["status"] == "awaiting_confirmation" and pending["steps_required"] == 2, text(r)
        r = await mcp.call_tool("confirm", {"operation_id": pending["operation_id"], "response": "no"})
        assert r.structured_content["status"] == "cancelled"

        # remediate: production needs two yes answers; then the restart is verified and logged.
        r = await mcp.call_tool("director", {"request": "restart API Lambda in production"})
        pending = r.structured_content
        assert pending["status"] == "awaiting_confirmation" and pending["steps_required"] == 2, text(r)
        assert "PRODUCTION" in pending["banner"] and "cold start" in pending["banner"]
        before = lam.get_function_configuration(FunctionName=api)["Environment"]["Variables"]
        assert "FABER_CLOUD_RESTARTED_AT" not in before
        r = await mcp.call_tool("confirm", {"operation_id": pending["operation_id"], "response": "yes"})
        assert r.structured_content["status"] == "awaiting_confirmation"
        r = await mcp.call_tool("confirm", {"operation_id": r.structured_content["operation_id"], "response": "yes"})
        assert not r.is_error, text(r)
        after = lam.get_function_configuration(FunctionName=api)["Environment"]["Variables"]
        assert after["TABLE"] == "orders" and after["FABER_CLOUD_RESTARTED_AT"]

        # A "no" runs nothing.
        r = await mcp.call_tool("ops-manager", {"operation": "remediate", "env": "prod", "service": "api-lambda", "action": "scale", "target": 5})
        r = await mcp.call_tool("confirm", {"operation_id": r.structured_content["operation_id"], "response": "no"})
        assert r.structured_content["status"] == "cancelled"
        assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=api)

        # What the banner showed changed before the last yes: nothing is done.
        r = await mcp.call_tool("ops-manager", {"operation": "remediate", "env": "prod", "service": "api-lambda", "action": "scale", "target": 5})
        assert r.structured_content["remediation"]["from"] == "unreserved", text(r)
        r = await mcp.call_tool("confirm", {"operation_id": r.structured_content["operation_id"], "response": "yes"})
        lam.put_function_concurrency(FunctionName=api, ReservedConcurrentExecutions=3)
        final_id = r.structured_content["operation_id"]
        r = await mcp.call_tool("confirm", {"operation_id": final_id, "response": "yes"})
        assert r.is_error and "changed since the confirmation" in text(r), text(r)
        audited = [json.loads(l) for l in (project / ".fractary/plugins/faber-cloud/audit-trail.jsonl").read_text().splitlines()]
        ends = [e["outcome"] for e in audited if e.get("operation_id") == final_id and e["outcome"] in ("failed", "succeeded")]
        assert ends == ["failed"], f"the action's end is audited once: {ends}"
        assert lam.get_function_concurrency(FunctionName=api)["ReservedConcurrentExecutions"] == 3
        lam.delete_function_concurrency(FunctionName=api)

    # Rollback through the CLI: the alias goes back to the previous version.
    proc = run_cli(project, "--json", "ops", "remediate", "--env", "prod", "--service", "api-lambda", "--action", "rollback", env=env, check=False)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    op = json.loads(proc.stdout)
    assert op["remediation"]["from"] == "2" and op["remediation"]["to"] == "1"
    done = confirm_cli(project, op["operation_id"], env=env)
    assert "alias live now points at version 1" in done.stdout, done.stdout
    assert lam.get_alias(FunctionName=api, Name="live")["FunctionVersion"] == "1"

    # An ECS service, found by the naming prefix: scale through the CLI.
    ecs = client(moto, "ecs")
    ecs.create_cluster(clusterName="main")
    for image in ["web:1", "web:2"]:
        ecs.register_task_definition(family=f"{prefix}web", containerDefinitions=[{"name": "web", "image": image, "memory": 256}])
    ecs.create_service(cluster="main", serviceName=f"{prefix}web", taskDefinition=f"{prefix}web:2", desiredCount=2)
    proc = run_cli(project, "--json", "ops", "remediate", "--env", "prod", "--service", "web", "--action", "scale", "--target", "4", env=env, check=False)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    op = json.loads(proc.stdout)
    assert (op["remediation"]["from"], op["remediation"]["to"], op["remediation"]["scope"]) == ("2", "4", "main")
    confirm_cli(project, op["operation_id"], env=env)
    assert ecs.describe_services(cluster="main", services=[f"{prefix}web"])["services"][0]["desiredCount"] == 4
    # ... and roll it back to the previous task definition revision.
    proc = run_cli(project, "--json", "ops", "remediate", "--env", "prod", "--service", "web", "--action", "rollback", env=env, check=False)
    op = json.loads(proc.stdout)
    assert op["remediation"]["to"].endswith(f"{prefix}web:1"), op["remediation"]
    confirm_cli(project, op["operation_id"], env=env)
    assert ecs.describe_services(cluster="main", services=[f"{prefix}web"])["services"][0]["taskDefinition"].endswith(f"{prefix}web:1")

    # A long window: counted by Logs Insights where the backend runs it, else paged (and said so).
    proc = run_cli(project, "--json", "ops", "query-logs", "--env", "prod", "--service", "api-handler", "--filter", "ERROR", "--timeframe", "7d", env=env)
    long = json.loads(proc.stdout)
    assert long["total_matches"] == 30 and long["method"] in ("insights", "filter")
    assert long["method"] == "insights" or long["notes"], long

    log = json.loads((project / ".fractary/plugins/faber-cloud/remediations/prod/remediation-log.json").read_text())
    assert [(e["plan"]["action"], e["outcome"]) for e in log] == [("restart", "succeeded"), ("scale", "failed"), ("rollback", "succeeded"), ("scale", "succeeded"), ("rollback", "succeeded")]
    trail = [json.loads(line) for line in (project / ".fractary/plugins/faber-cloud/audit-trail.jsonl").read_text().splitlines()]
    assert any(e["operation"] == "remediate restart" and e["outcome"] == "succeeded" and e.get("aws_caller") for e in trail)
