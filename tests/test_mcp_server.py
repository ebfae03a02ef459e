"""The MCP server driven by the real Python MCP SDK over stdio."""

import json
import os
import re
import subprocess
import tomllib

import pytest
from jsonschema import Draft202012Validator

from conftest import MODES, ROOT, binary, connect, run_cli

pytestmark = pytest.mark.anyio

TOOLS = {"director", "infra-manager", "ops-manager", "confirm", "config"}


def structured(result):
    assert result.structured_content is not None, f"no structured content in {result}"
    return result.structured_content


def text(result):
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


def cargo_version():
    with open(ROOT / "Cargo.toml", "rb") as f:
        return tomllib.load(f)["package"]["version"]


@pytest.mark.parametrize("mode", MODES)
async def test_handshake_and_tool_list(project, mode):
    async with connect(project, mode) as client:
        assert client.server_info.name == "faber-cloud"
        assert client.server_info.version == cargo_version()
        expected_protocol = "2025-11-25" if mode == "legacy" else "2026-07-28"
        assert client.protocol_version == expected_protocol
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert set(tools) == TOOLS, "gate-selftest must stay hidden unless FABER_CLOUD_SELFTEST=1"
        for name, tool in tools.items():
            schema = tool.input_schema
            Draft202012Validator.check_schema(schema)
            assert schema["type"] == "object", name
            assert len(tool.description or "") > 80, f"{name} needs a description an assistant can act on"
        # Honest annotations: confirm and the managers can change things; config cannot destroy.
        assert tools["confirm"].annotations.destructive_hint is True
        assert tools["director"].annotations.destructive_hint is True, "the director can start auto-approved changes"
        assert tools["infra-manager"].annotations.destructive_hint is True
        assert tools["ops-manager"].annotations.destructive_hint is True
        assert tools["config"].annotations.destructive_hint is False
        for name in TOOLS:
            assert tools[name].annotations.read_only_hint is False
        # Schemas list the accepted operations and required fields.
        infra = tools["infra-manager"].input_schema
        assert "operation" in infra["required"]
        ops_text = json.dumps(tools["ops-manager"].input_schema)
        for op in ["check-health", "query-logs", "investigate", "analyze-performance", "remediate", "audit"]:
            assert op in ops_text
        assert set(tools["confirm"].input_schema["required"]) == {"operation_id", "response"}


@pytest.mark.parametrize("mode", MODES)
async def test_director_routes_and_clarifies(configured, mode):
    async with connect(configured, mode) as client:
        r = await client.call_tool("director", {"request": "restart API Lambda in production", "route_only": True})
        assert not r.is_error, text(r)
        body = structured(r)
        assert body["status"] == "routed"
        assert body["routed"]["manager"] == "ops-manager"
        assert body["routed"]["operation"] == "remediate"
        assert body["routed"]["env"] == "prod"
        assert body["routed"]["args"] == {"service": "api-lambda", "action": "restart"}
        assert "ops-manager remediate" in text(r)

        # The guide's ambiguous example, then an answer by number.
        r = await client.call_tool("director", {"request": "check my infrastructure"})
        assert not r.is_error
        body = structured(r)
        assert body["status"] == "clarify"
        assert [(c["n"], c["manager"], c["operation"]) for c in body["choices"]] == [
            (1, "ops-manager", "check-health"),
            (2, "infra-manager", "validate-config"),
            (3, "infra-manager", "show-resources"),
        ]
        assert "1/2/3" in text(r)
        cid = body["clarification_id"]
        r = await client.call_tool("director", {"request": "9", "clarification_id": cid})
        assert r.is_error and structured(r)["error"]["field"] == "request"
        assert "1 to 3" in text(r)
        # Choice 3 runs show-resources; with no Terraform yet it says so, and the error keeps the routing.
        r = await client.call_tool("director", {"request": "3", "clarification_id": cid})
        assert r.is_error
        err = structured(r)["error"]
        assert err["field"] == "handlers.iac.terraform.directory", err
        assert "engineer" in err["accepted"]
        assert err["routed"]["operation"] == "show-resources"
        # A clarification is answered once.
        r = await client.call_tool("director", {"request": "1", "clarification_id": cid})
        assert r.is_error and "answered" in text(r)


@pytest.mark.parametrize("mode", MODES)
async def test_director_refuses_what_it_does_not_do_and_keeps_no_stale_questions(configured, mode):
    store = configured / ".fractary/plugins/faber-cloud/clarifications"
    stored = lambda: sorted(store.glob("*.json")) if store.exists() else []
    async with connect(configured, mode) as client:
        # Out of scope: nothing runs, and the reply says what the product does.
        for request in ["write me a poem", "drop the orders table in the prod postgres"]:
            r = await client.call_tool("director", {"request": request})
            assert not r.is_error, text(r)
            assert structured(r)["status"] == "unsupported" and "It can design infrastructure" in text(r), text(r)
        # A question about a mutating action routes to its read-only counterpart.
        r = await client.call_tool("director", {"request": "what happens if I deploy to prod?", "route_only": True})
        assert structured(r)["routed"]["operation"] == "preview-changes" and structured(r)["routed"]["env"] == "prod", text(r)
        # Route-only stores nothing, even a question.
        r = await client.call_tool("director", {"request": "check my infrastructure", "route_only": True})
        assert structured(r)["status"] == "clarify" and "clarification_id" not in structured(r), structured(r)
        assert stored() == []
        # "fix …" in route-only: the investigation, then the remediations it would offer.
        r = await client.call_tool("director", {"request": "fix the failing api lambda in production", "route_only": True})
        body = structured(r)
        assert body["routed"]["operation"] == "investigate" and [c["args"]["action"] for c in body["then"]] == ["restart", "rollback", "scale"], body
        assert stored() == []
        # An answered question is removed; an expired one is removed by the next question.
        r = await client.call_tool("director", {"request": "check my infrastructure"})
        cid = structured(r)["clarification_id"]
        assert [p.stem for p in stored()] == [cid]
        r = await client.call_tool("director", {"request": "2", "clarification_id": cid, "route_only": True})
        assert structured(r)["routed"]["operation"] == "validate-config", text(r)
        assert stored() == []
        r = await client.call_tool("director", {"request": "check my infrastructure"})
        old = stored()[0]
        record = json.loads(old.read_text())
        record["expires_at"] = "2020-01-01T00:00:00Z"
        old.write_text(json.dumps(record))
        r = await client.call_tool("director", {"request": "check my infrastructure"})
        assert [p.stem for p in stored()] == [structured(r)["clarification_id"]]
    proc = run_cli(configured, "director", "write me a poem", check=False)
    assert proc.returncode == 1 and "outside what faber-cloud does" in proc.stdout, (proc.returncode, proc.stdout)


@pytest.mark.parametrize("mode", MODES)
async def test_gate_through_confirm(configured, mode):
    log = lambda env: configured / ".fractary/plugins/faber-cloud/selftest" / f"{env}.log"
    async with connect(configured, mode, selftest=True) as client:
        assert "gate-selftest" in {t.name for t in (await client.list_tools()).tools}

        # test (unprotected, auto_approve false): one "yes"; a "no" cancels.
        r = await client.call_tool("gate-selftest", {"env": "test", "payload": "first"})
        body = structured(r)
        assert body["status"] == "awaiting_confirmation" and body["steps_required"] == 1
        r = await client.call_tool("confirm", {"operation_id": body["operation_id"], "response": "no"})
        assert not r.is_error and structured(r)["status"] == "cancelled"
        assert not log("test").exists(), "a cancelled operation must not run"
        r = await client.call_tool("confirm", {"operation_id": body["operation_id"], "response": "yes"})
        assert r.is_error, "a cancelled id cannot be confirmed later"

        r = await client.call_tool("gate-selftest", {"env": "test", "payload": "second"})
        oid = structured(r)["operation_id"]
        r = await client.call_tool("confirm", {"operation_id": oid, "response": " YES "})
        assert not r.is_error and structured(r)["executed"] is True
        assert log("test").read_text() == "second\n"

        # prod: auto_approve is ignored; two "yes" answers; runs exactly once; the id is single-use.
        r = await client.call_tool("gate-selftest", {"env": "prod", "payload": "deploy-ish", "auto_approve": True})
        body = structured(r)
        assert body["status"] == "awaiting_confirmation"
        assert body["steps_required"] == 2 and body["protected"] is True
        assert "PRODUCTION" in body["banner"]
        first = body["operation_id"]
        r = await client.call_tool("confirm", {"operation_id": first, "response": "yes"})
        body = structured(r)
        assert body["status"] == "awaiting_confirmation" and body["steps_done"] == 1
        assert "FINAL CONFIRMATION" in body["banner"]
        oid = body["operation_id"]
        assert oid != first and oid in text(r), "the final banner has its own id, named in the text"
        assert not log("prod").exists(), "one yes is not enough for prod"
        # A repeated first answer (a retry, a double click) cannot complete it.
        r = await client.call_tool("confirm", {"operation_id": first, "response": "yes"})
        assert r.is_error and "already answered" in text(r) and oid in text(r), text(r)
        assert not log("prod").exists()
        r = await client.call_tool("confirm", {"operation_id": oid, "response": "yes"})
        assert not r.is_error and structured(r)["executed"] is True
        r = await client.call_tool("confirm", {"operation_id": oid, "response": "yes"})
        assert r.is_error and "already confirmed and used" in text(r)
        assert log("prod").read_text() == "deploy-ish\n", "executed exactly once"

        # Anything but yes at the second step cancels.
        r = await client.call_tool("gate-selftest", {"env": "prod", "payload": "never"})
        oid = structured(r)["operation_id"]
        r = await client.call_tool("confirm", {"operation_id": oid, "response": "yes"})
        r = await client.call_tool("confirm", {"operation_id": structured(r)["operation_id"], "response": "y"})
        assert structured(r)["status"] == "cancelled"
        assert "never" not in log("prod").read_text()

    trail = [json.loads(l) for l in (configured / ".fractary/plugins/faber-cloud/audit-trail.jsonl").read_text().splitlines()]
    outcomes = [e["outcome"] for e in trail]
    assert outcomes.count("executed") == 2
    assert "cancelled" in outcomes and "refused" in outcomes
    assert all(e["user"] and e["timestamp"] and e["env"] in ("test", "prod") for e in trail)
    assert any("auto-approve ignored" in (e.get("detail") or "") for e in trail)


@pytest.mark.parametrize("mode", MODES)
async def test_bad_arguments_are_tool_errors(configured, mode):
    cases = [
        ("infra-manager", {"operation": "explode"}, "operation", "architect"),
        ("infra-manager", {}, "operation", "deploy"),
        ("infra-manager", {"operation": "deploy", "env": "staging"}, "env", "prod, test"),
        ("infra-manager", {"operation": "deploy", "env": "../etc"}, "env", None),
        ("infra-manager", {"operation": "engineer", "design": "../../x.md"}, "design", None),
        ("infra-manager", {"operation": "deploy", "enviroment": "test"}, "enviroment", "`env`"),
        ("ops-manager", {"operation": "remediate", "service": "api-lambda"}, "action", "restart, scale, rollback"),
        ("ops-manager", {"operation": "query-logs", "timeframe": "yesterday"}, "timeframe", "24h"),
        ("ops-manager", {"operation": "query-logs", "limit": 0}, "limit", "1 to 1000"),
        ("ops-manager", {"operation": "check-health", "service": "API Lambda"}, "service", "api-lambda"),
        ("ops-manager", {"operation": "audit", "focus": "vibes"}, "focus", "cost"),
        ("confirm", {"operation_id": "../../etc/passwd", "response": "yes"}, "operation_id", None),
        ("confirm", {"operation_id": "0b7c8a52-6d3e-4f38-9d6e-6f1a3b2c9d10", "response": "yes"}, "operation_id", None),
        ("confirm", {"response": "yes"}, "operation_id", "operation_id"),
        ("director", {"env": "prod"}, "request", "request"),
        ("director", {"request": ""}, "request", None),
        ("director", {"request": "deploy to staging"}, "request", "prod, test"),
        ("director", {"request": "deploy", "env": "staging", "route_only": True}, "env", "prod, test"),
        ("config", {"action": "destroy"}, "action", "init"),
    ]
    async with connect(configured, mode) as client:
        for tool, args, field, mention in cases:
            r = await client.call_tool(tool, args)
            assert r.is_error, f"{tool} {args} should be a tool error"
            err = structured(r)["error"]
            assert err["field"] == field, f"{tool} {args}: {err}"
            assert err["kind"] == "bad_input", f"{tool} {args}: {err}"
            if mention:
                assert mention in text(r), f"{tool} {args}: {text(r)!r} should mention {mention!r}"


@pytest.mark.parametrize("mode", MODES)
async def test_config_tool(project, mode):
    async with connect(project, mode) as client:
        r = await client.call_tool("config", {"action": "show"})
        assert r.is_error and "config init" in text(r)
        r = await client.call_tool("config", {"action": "init", "provider": "gcp"})
        assert r.is_error and structured(r)["error"]["kind"] == "config" and "accepted: aws" in text(r)
        r = await client.call_tool("config", {"action": "init", "provider": "aws", "iac": "terraform", "endpoint_url": "http://127.0.0.1:5000"})
        assert not r.is_error, text(r)
        cfg = structured(r)["config"]
        assert cfg["project"]["name"] == re.sub(r"[^a-z0-9]+", "-", project.name.lower()).strip("-")
        assert cfg["handlers"]["hosting"]["aws"]["endpoint_url"] == "http://127.0.0.1:5000"
        r = await client.call_tool("config", {"action": "init"})
        assert r.is_error and "already exists" in text(r)
        r = await client.call_tool("config", {"action": "validate"})
        assert not r.is_error and structured(r)["valid"] is True
        path = project / ".fractary/plugins/faber-cloud/devops.json"
        data = json.loads(path.read_text())
        data["environments"]["test"]["auto_approve"] = "sometimes"
        path.write_text(json.dumps(data))
        r = await client.call_tool("config", {"action": "validate"})
        assert r.is_error and "environments.test.auto_approve" in text(r)
        data["environments"]["test"]["auto_approve"] = False
        data["resource_naming"]["pattern"] = "{project}-{env}-{resource}"
        data["handlers"]["hosting"]["aws"]["region"] = "mars-1"
        path.write_text(json.dumps(data))
        r = await client.call_tool("config", {"action": "validate"})
        problems = structured(r)["error"]["problems"]
        assert {p["path"] for p in problems} == {"resource_naming.pattern", "handlers.hosting.aws.region"}


def test_malformed_json_line_keeps_the_server_serving(project):
    """Raw JSON-RPC over stdio: a garbage line must not stop the server, and
    stdout must carry nothing but JSON-RPC messages."""
    proc = subprocess.Popen(
        [binary(), "serve", "--project-dir", str(project)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, FABER_CLOUD_LOG="debug"),
    )

    def send(obj):
        proc.stdin.write((obj if isinstance(obj, str) else json.dumps(obj)) + "\n")
        proc.stdin.flush()

    def read_response(want_id):
        while True:
            line = proc.stdout.readline()
            assert line, f"server closed stdout; stderr: {proc.stderr.read()}"
            msg = json.loads(line)  # every stdout line is JSON
            assert msg.get("jsonrpc") == "2.0", line
            if msg.get("id") == want_id:
                return msg

    try:
        send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}})
        init = read_response(1)
        assert init["result"]["serverInfo"]["name"] == "faber-cloud"
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        send("{this is not json")
        send('{"jsonrpc": "2.0", "id": 2, "method": "tools/list"')  # truncated
        send({"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": {}})
        listed = read_response(3)
        assert {t["name"] for t in listed["result"]["tools"]} == {"director", "infra-manager", "ops-manager", "confirm", "config"}
        send({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "director", "arguments": {"request": "monitor production", "route_only": True}}})
        called = read_response(4)
        assert called["result"]["structuredContent"]["routed"]["operation"] == "check-health"
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
    assert proc.returncode == 0
