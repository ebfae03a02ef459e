"""A team's shared history: with `audit.cloudwatch_log_group`, every audit-trail
line also goes to CloudWatch Logs (moto), one stream per user and machine. The
local file stays the record: when the group is gone the command still answers
and its line stays local, and the next command ships it once the group is back."""

import getpass
import json
import socket

from conftest import run_cli
from test_deploy import boto, state_dir

GROUP = "/faber-cloud/audit"
DENIED = ("creating S3 Bucket (x): operation error S3: CreateBucket, https response error StatusCode: 403, api error AccessDenied: "
          "User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: s3:CreateBucket on resource: arn:aws:s3:::x")


def trail(project):
    return (state_dir(project) / "audit-trail.jsonl").read_text().splitlines()


def shipped(logs, stream):
    return [e["message"] for e in logs.get_log_events(logGroupName=GROUP, logStreamName=stream, startFromHead=True)["events"]]


def test_the_audit_trail_is_shared_through_cloudwatch_logs(project, moto):
    run_cli(project, "config", "init", "--endpoint-url", moto)
    path = state_dir(project) / "devops.json"
    config = json.loads(path.read_text())
    config["audit"] = {"cloudwatch_log_group": "not a group name!"}
    path.write_text(json.dumps(config))
    proc = run_cli(project, "--json", "config", "validate", check=False)
    assert proc.returncode == 2 and "audit.cloudwatch_log_group" in proc.stdout, proc.stdout
    config["audit"] = {"cloudwatch_log_group": GROUP}
    path.write_text(json.dumps(config))
    logs = boto(moto, "logs")
    logs.create_log_group(logGroupName=GROUP)
    stream = f"{getpass.getuser()}@{socket.gethostname()}"

    # A permission fix proposed by debug is audited; the line goes to the group as written locally.
    proc = run_cli(project, "--json", "infra", "debug", "--env", "test", "--error", DENIED, check=False, timeout=120)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    local = trail(project)
    assert local and any("permission-fix" in line for line in local), local
    assert shipped(logs, stream) == local

    # The group is gone: the command answers as before, its lines stay in the local file.
    logs.delete_log_group(logGroupName=GROUP)
    proc = run_cli(project, "--json", "infra", "debug", "--env", "test", "--error", DENIED, check=False, timeout=120)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "not shipped" in proc.stderr and "kept locally" in proc.stderr, proc.stderr
    later = trail(project)[len(local):]
    assert later, "the local trail keeps every line"

    # The group is back: the next command ships what was left, once.
    logs.create_log_group(logGroupName=GROUP)
    run_cli(project, "config", "validate")
    assert shipped(logs, stream) == later
    run_cli(project, "config", "validate")
    assert shipped(logs, stream) == later, "nothing is shipped twice"
