"""A deploy interrupted mid-apply, with the real terraform against moto: the
MCP call cancelled (terraform is interrupted, writes its state and releases its
S3 state lock; the audit trail says `cancelled`), and faber-cloud killed with
SIGKILL (terraform is told to stop by the kernel and does the same). Each time
the next deploy converges: no BucketAlreadyExists, no stale lock."""

import json
import os
import signal
import subprocess
import time

from conftest import binary, require_terraform, run_cli
from test_deploy import boto, new_project, state_dir, tf_env
from test_hardening import Raw


def children(pid):
    """(pid, command line) of the processes whose parent is `pid`."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid != pid:
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                out.append((int(entry), f.read().replace(b"\0", b" ").decode(errors="replace")))
        except (OSError, ValueError, IndexError):
            continue
    return out


def wait_for_apply(pid, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for child, cmd in children(pid):
            if "terraform" in cmd and " apply " in cmd:
                return child
        time.sleep(0.2)
    raise AssertionError("terraform apply never started")


def wait_gone(pid, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return
        except OSError:
            return
        time.sleep(0.2)
    raise AssertionError(f"terraform (pid {pid}) still runs {timeout}s after faber-cloud stopped")


def test_an_interrupted_deploy_keeps_its_state_and_the_next_one_converges(project, moto):
    require_terraform()
    name = new_project(project, moto)
    boto(moto, "s3").create_bucket(Bucket=f"{name}-terraform-state")
    env = dict(os.environ, **tf_env())

    # 1. faber-cloud killed with SIGKILL while terraform applies.
    proc = subprocess.Popen([binary(), "--project-dir", str(project), "infra", "deploy", "--env", "test", "--auto-approve"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tf = wait_for_apply(proc.pid)
    time.sleep(3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    wait_gone(tf)
    again = run_cli(project, "--json", "infra", "deploy", "--env", "test", "--auto-approve", env=tf_env(), timeout=600, check=False)
    assert again.returncode == 0, again.stdout + again.stderr
    assert json.loads(again.stdout)["status"] == "ok"
    assert f"{name}-core-test-uploads" in {b["Name"] for b in boto(moto, "s3").list_buckets()["Buckets"]}

    # 2. The MCP call cancelled while terraform applies the approved plan for prod.
    raw = Raw(project, tf_env())
    raw.initialize()
    raw.call(1, "infra-manager", {"operation": "deploy", "env": "prod"})
    pending = raw.wait(1, 300)["result"]["structuredContent"]
    assert pending["status"] == "awaiting_confirmation", pending
    raw.call(2, "confirm", {"operation_id": pending["operation_id"], "response": "yes"})
    final = raw.wait(2, 60)["result"]["structuredContent"]
    raw.call(3, "confirm", {"operation_id": final["operation_id"], "response": "yes"})
    tf = wait_for_apply(raw.proc.pid)
    time.sleep(3)
    raw.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 3, "reason": "stop"}})
    wait_gone(tf)
    raw.proc.stdin.close()
    assert raw.proc.wait(timeout=30) == 0
    trail = [json.loads(l) for l in (state_dir(project) / "audit-trail.jsonl").read_text().splitlines()]
    assert any(e["env"] == "prod" and e["operation"] == "deploy" and e["outcome"] == "cancelled" for e in trail), [e["outcome"] for e in trail]

    proc = run_cli(project, "--json", "infra", "deploy", "--env", "prod", env=tf_env(), timeout=600, check=False)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    op = json.loads(proc.stdout)["operation_id"]
    step = json.loads(run_cli(project, "--json", "confirm", op, "yes", env=tf_env(), check=False).stdout)
    done = run_cli(project, "--json", "confirm", step["operation_id"], "yes", env=tf_env(), timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{name}-core-prod-uploads" in {b["Name"] for b in boto(moto, "s3").list_buckets()["Buckets"]}
