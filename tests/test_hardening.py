"""Hardening (issue #10) against the real binary over raw JSON-RPC on stdio:
work that stops when cancelled, a server that never freezes, a quick clean
exit on EOF, inputs that used to panic, and credentials that follow the
configured profile whatever the environment holds."""

import json
import os
import socket
import subprocess
import threading
import time

import pytest

from conftest import binary, confirm_cli, run_cli


class Blackhole:
    """A TCP endpoint that accepts connections and never answers (an AWS
    endpoint that hangs); counts the connections and bytes it receives."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.received = 0
        self.held = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                self.held.append(conn)
            threading.Thread(target=self._drain, args=(conn,), daemon=True).start()

    def _drain(self, conn):
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            with self.lock:
                self.received += len(data)

    def activity(self):
        with self.lock:
            return self.connections, self.received

    def close(self):
        self.sock.close()
        for c in self.held:
            c.close()


class Raw:
    """The server over raw JSON-RPC lines."""

    def __init__(self, project, env=None):
        self.proc = subprocess.Popen(
            [binary(), "serve", "--project-dir", str(project)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=dict(os.environ, **(env or {})),
        )
        self.pending = {}
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            msg = json.loads(line)
            if "id" in msg and ("result" in msg or "error" in msg):
                with self.lock:
                    self.pending[msg["id"]] = msg
                    self.arrived.notify_all()

    def send(self, obj):
        self.proc.stdin.write(json.dumps(obj) + "\n")
        self.proc.stdin.flush()

    def wait(self, want_id, timeout):
        deadline = time.time() + timeout
        with self.lock:
            while want_id not in self.pending:
                left = deadline - time.time()
                if left <= 0:
                    return None
                self.arrived.wait(left)
            return self.pending[want_id]

    def initialize(self):
        self.send({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}})
        assert self.wait(0, 10), "no answer to initialize"
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def call(self, rid, name, arguments):
        self.send({"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": {"name": name, "arguments": arguments}})


def test_cancel_stall_and_eof_with_a_backend_that_never_answers(project):
    hole = Blackhole()
    try:
        run_cli(project, "config", "init", "--endpoint-url", f"http://127.0.0.1:{hole.port}")
        raw = Raw(project, {"AWS_MAX_ATTEMPTS": "1"})
        raw.initialize()

        # A check-health that hangs on the backend.
        raw.call(1, "ops-manager", {"operation": "check-health", "env": "test"})
        deadline = time.time() + 10
        while hole.activity()[0] == 0 and time.time() < deadline:
            time.sleep(0.05)
        assert hole.activity()[0] > 0, "check-health never reached the endpoint"

        # The server still answers other calls while that one waits (config show reads only the file;
        # config validate also asks S3 whether the state bucket exists, for at most 5 s).
        started = time.time()
        raw.call(2, "config", {"action": "show"})
        answer = raw.wait(2, 5)
        assert answer is not None, "config show got no answer while another call waited on AWS"
        assert time.time() - started < 2.0

        # Cancelling stops the work: no new connection or request reaches the backend afterwards.
        raw.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1, "reason": "user pressed stop"}})
        time.sleep(1.0)
        settled = hole.activity()
        time.sleep(4.0)
        assert hole.activity() == settled, f"work went on after the cancellation: {settled} -> {hole.activity()}"
        assert raw.wait(1, 0.5) is None, "a cancelled request gets no reply"

        # EOF with a request in flight: a clean exit within a second.
        raw.call(3, "ops-manager", {"operation": "check-health", "env": "test"})
        time.sleep(0.5)
        started = time.time()
        raw.proc.stdin.close()
        code = raw.proc.wait(timeout=10)
        assert code == 0
        assert time.time() - started < 1.5, f"exit took {time.time() - started:.1f}s"
    finally:
        hole.close()


def test_inputs_that_used_to_panic_get_tool_errors_naming_the_field(project):
    run_cli(project, "config", "init")
    raw = Raw(project)
    raw.initialize()
    designs = project / ".fractary/plugins/faber-cloud/designs"
    designs.mkdir(parents=True)
    spec = {"version": 1, "feature": "reuse", "components": [
        {"type": "s3_bucket", "name": "uploads", "settings": {"kms_key": "data"}},
        {"type": "kms_key", "name": "data", "existing": "aws_kms_key.k[0"},
    ]}
    (designs / "reuse.md").write_text("# reuse\n\n```json faber-design\n" + json.dumps(spec) + "\n```\n")
    escape = {"version": 1, "feature": "escape", "components": [
        {"type": "lambda_function", "name": "api", "settings": {"handler": "../../../../tmp/X.handler"}},
    ]}
    (designs / "escape.md").write_text("# escape\n\n```json faber-design\n" + json.dumps(escape) + "\n```\n")
    cases = [
        (1, "infra-manager", {"operation": "engineer", "design": "reuse"}, "design.components[1].existing"),
        (2, "infra-manager", {"operation": "engineer", "design": "escape"}, "design.components[0].settings.handler"),
        (3, "ops-manager", {"operation": "query-logs", "env": "test", "timeframe": "1\u00e9"}, "timeframe"),
        (4, "ops-manager", {"operation": "query-logs", "env": "test", "timeframe": "\u00e9"}, "timeframe"),
    ]
    for rid, tool, args, field in cases:
        raw.call(rid, tool, args)
        answer = raw.wait(rid, 20)
        assert answer is not None, f"no answer to {tool} {args}"
        result = answer["result"]
        assert result["isError"], result
        assert result["structuredContent"]["error"].get("field") == field, result
    assert not (project.parent / "tmp" / "X.py").exists()
    raw.proc.stdin.close()
    assert raw.proc.wait(timeout=10) == 0

    # Configuration values that would leave the project or break the generated code are refused by validate.
    path = project / ".fractary/plugins/faber-cloud/devops.json"
    config = json.loads(path.read_text())
    config["handlers"]["hosting"]["aws"]["endpoint_url"] = 'http://127.0.0.1:5000"x'
    config["handlers"]["iac"]["terraform"]["var_file_pattern"] = "../{environment}.tfvars"
    config["project"]["organization"] = ".."
    path.write_text(json.dumps(config))
    proc = run_cli(project, "--json", "config", "validate", check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    paths = {p["path"] for p in json.loads(proc.stdout)["error"]["problems"]}
    assert {"handlers.hosting.aws.endpoint_url", "handlers.iac.terraform.var_file_pattern", "project.organization"} <= paths, paths


def test_the_configured_profile_wins_over_environment_keys(project, moto):
    import boto3

    run_cli(project, "config", "init", "--endpoint-url", moto)
    config = json.loads((project / ".fractary/plugins/faber-cloud/devops.json").read_text())
    profile = config["handlers"]["hosting"]["aws"]["profiles"]["prod"]
    prefix = f"{config['project']['name']}-core-prod-"
    kw = dict(endpoint_url=moto, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    iam = boto3.client("iam", **kw)
    user = f"deployer-{os.getpid()}-{int(time.time())}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    creds = project / "aws-credentials"
    creds.write_text(f"[{profile}]\naws_access_key_id = {key['AccessKeyId']}\naws_secret_access_key = {key['SecretAccessKey']}\n")
    role = iam.create_role(RoleName=f"{prefix}r", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))["Role"]["Arn"]
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(e, c):\n    return 1\n")
    boto3.client("lambda", **kw).create_function(FunctionName=f"{prefix}fn", Runtime="python3.12", Role=role, Handler="index.handler", Code={"ZipFile": buf.getvalue()})

    # Other keys in the environment (another identity) must not be used for prod.
    env = {"AWS_SHARED_CREDENTIALS_FILE": str(creds), "AWS_ACCESS_KEY_ID": "AKIAOTHERIDENTITY000", "AWS_SECRET_ACCESS_KEY": "other", "AWS_MAX_ATTEMPTS": "1"}
    proc = run_cli(project, "--json", "ops", "remediate", "--env", "prod", "--service", "fn", "--action", "scale", "--target", "2", env=env, check=False)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    confirm_cli(project, json.loads(proc.stdout)["operation_id"], env=env)
    trail = [json.loads(l) for l in (project / ".fractary/plugins/faber-cloud/audit-trail.jsonl").read_text().splitlines()]
    done = [e for e in trail if e["operation"] == "remediate scale" and e["outcome"] == "succeeded"]
    assert done and done[-1]["aws_caller"].endswith(f":user/{user}"), done


SECRETS = {
    "aws key id": "AKIAQWERTYUIOPASDFGH",
    "aws secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzEXAMPLE9",
    "github token": "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    "github fine-grained": "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd",
    "jwt": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "slack": "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "url password": "hunter2urlpass",
    "password pair": "pairpassword77",
}


def secret_line():
    s = SECRETS
    return (f"ERROR login failed key {s['aws key id']} secret {s['aws secret']} gh {s['github token']} pat {s['github fine-grained']} "
            f"jwt {s['jwt']} slack {s['slack']} db postgres://app:{s['url password']}@db:5432/x password={s['password pair']}")


def assert_clean(where, text):
    for kind, secret in SECRETS.items():
        assert secret not in text, f"{kind} appears in {where}"


def test_secrets_never_come_back(project, moto):
    import boto3

    run_cli(project, "config", "init", "--endpoint-url", moto)
    state = project / ".fractary/plugins/faber-cloud"
    config = json.loads((state / "devops.json").read_text())
    prefix = f"{config['project']['name']}-core-test-"
    kw = dict(endpoint_url=moto, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    iam = boto3.client("iam", **kw)
    role = iam.create_role(RoleName=f"{prefix}leaky-r", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))["Role"]["Arn"]
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(e, c):\n    return 1\n")
    boto3.client("lambda", **kw).create_function(FunctionName=f"{prefix}leaky", Runtime="python3.12", Role=role, Handler="index.handler", Code={"ZipFile": buf.getvalue()})
    logs = boto3.client("logs", **kw)
    group = f"/aws/lambda/{prefix}leaky"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[{"timestamp": now - 60000 + i, "message": secret_line() + f" \x1b[31m#{i}"} for i in range(5)])

    env = {"AWS_MAX_ATTEMPTS": "1", "FABER_CLOUD_LOG": "debug"}
    outputs = []
    for args in (
        ["--json", "ops", "query-logs", "--env", "test", "--service", "leaky", "--filter", "ERROR"],
        ["ops", "query-logs", "--env", "test", "--service", "leaky", "--filter", "ERROR"],
        ["--json", "ops", "investigate", "--env", "test", "--service", "leaky"],
        ["ops", "investigate", "--env", "test", "--service", "leaky"],
        ["--json", "infra", "debug", "--env", "test", "--error", secret_line()],
        ["infra", "debug", "--env", "test", "--error", secret_line()],
    ):
        proc = run_cli(project, *args, env=env, check=False)
        assert proc.returncode in (0, 1), proc.stdout + proc.stderr
        assert_clean(f"stdout of {args[:4]}", proc.stdout)
        assert_clean(f"stderr of {args[:4]} (debug logs)", proc.stderr)
        assert "\x1b" not in proc.stdout, f"a raw control character in the text of {args[:4]}"
        outputs.append(proc.stdout)
    assert any("<github-token>" in o for o in outputs), "the events were shown, masked"
    # A function with no traffic has no metrics: that is no data, never "healthy".
    proc = run_cli(project, "--json", "ops", "check-health", "--env", "test", "--service", "leaky", env={"AWS_MAX_ATTEMPTS": "1"}, check=False)
    health = json.loads(proc.stdout)
    assert health["services"][0]["status"] == "NO_DATA", health["services"][0]
    assert health["identity"].startswith("arn:aws:"), "a reply that touched AWS names the identity it used"
    stored = [p for p in state.rglob("*") if p.is_file() and p.suffix in (".json", ".jsonl", ".md")]
    assert any("incident" in p.name for p in stored) and any(p.name == "issue-log.json" for p in stored), stored
    for path in stored:
        assert_clean(str(path.relative_to(state)), path.read_text())


async def test_text_only_clients_can_follow_every_flow(configured):
    from conftest import connect

    async with connect(configured, "auto") as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        limit = json.dumps(tools["ops-manager"].input_schema["properties"]["limit"])
        assert '"minimum": 1' in limit and '"maximum": 1000' in limit, limit
        r = await client.call_tool("director", {"request": "check my infrastructure"})
        body = r.structured_content
        assert body["status"] == "clarify", body
        text = "\n".join(c.text for c in r.content if c.type == "text")
        assert body["clarification_id"] in text and "clarification_id" in text, text
        # A client that passes on only the text can answer: the id comes from the text.
        cid = text.split("clarification_id: \"")[1].split("\"")[0]
        r = await client.call_tool("director", {"request": "1", "clarification_id": cid, "route_only": True})
        assert not r.is_error and r.structured_content["status"] != "clarify", r.content
    proc = run_cli(configured, "director", "check my infrastructure", check=False)
    assert proc.returncode == 3
    assert "faber-cloud director N --clarification-id " in proc.stdout, proc.stdout


pytestmark = pytest.mark.anyio


def test_a_secret_variable_default_never_comes_back(project, moto):
    """A Terraform variable with a secret-looking default that is not marked sensitive, used in a
    tag: neither the preview nor the deploy reply (text or JSON), nor any stored file shows it."""
    from conftest import require_terraform
    from test_deploy import boto, new_project, tf_env

    require_terraform()
    name = new_project(project, moto)
    boto(moto, "s3").create_bucket(Bucket=f"{name}-terraform-state")
    secret = "Hunter2-Very-Secret-Default"
    (project / "infrastructure/terraform/secrets.tf").write_text(
        f'variable "db_password" {{\n  type    = string\n  default = "{secret}"\n}}\n\n'
        'resource "aws_sqs_queue" "leak" {\n  name = "${var.project}-leak"\n  tags = { DbPassword = var.db_password }\n}\n'
    )
    outputs = []
    for args in (["--json", "infra", "preview-changes", "--env", "test"], ["infra", "preview-changes", "--env", "test"],
                 ["--json", "infra", "deploy", "--env", "test", "--auto-approve"]):
        proc = run_cli(project, *args, env=tf_env(), timeout=600, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        outputs.append(proc.stdout)
        assert secret not in proc.stdout and secret not in proc.stderr, f"{args[:3]} shows the secret"
    assert any("DbPassword" in o for o in outputs), "the tag was shown, its value masked"
    state = project / ".fractary/plugins/faber-cloud"
    for path in state.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".jsonl", ".md"):
            assert secret not in path.read_text(errors="replace"), f"{path.relative_to(state)} keeps the secret"
