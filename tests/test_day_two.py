"""The second day on a running stack, with the real terraform against moto and a
real MCP client: a change that would replace a bucket is marked DATA LOSS and
waits for a "yes" even with auto-approve ("no" keeps the bucket); a teardown
through the director's words lists every resource with the data lost, stops
part way on a bucket that still holds objects (saying what is left and what to
do), and after the bucket is emptied removes everything: moto empty, registry
empty, every step audited."""

import getpass
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time

import pytest

from conftest import binary, connect, require_terraform, run_cli
from test_deploy import ACCOUNT, boto, engineer_design, new_project, state_dir, text, tf_env

pytestmark = pytest.mark.anyio


def buckets(s3):
    return {b["Name"] for b in s3.list_buckets()["Buckets"]}


def over_http(s3, bucket, action):
    """Runs `action` with the bucket's policy lifted and puts it back: the generated policy denies
    requests without TLS, and moto answers on plain http."""
    policy = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    s3.delete_bucket_policy(Bucket=bucket)
    try:
        action()
    finally:
        s3.put_bucket_policy(Bucket=bucket, Policy=policy)


def empty_versioned(s3, bucket):
    listed = s3.list_object_versions(Bucket=bucket)
    for v in listed.get("Versions", []) + listed.get("DeleteMarkers", []):
        s3.delete_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])


async def test_data_loss_is_always_confirmed_and_teardown_removes_everything(project, moto):
    require_terraform()
    name = new_project(project, moto, account_id=ACCOUNT)
    s3 = boto(moto, "s3")
    s3.create_bucket(Bucket=f"{name}-terraform-state")
    bucket = f"{name}-core-test-uploads"
    main_tf = project / "infrastructure/terraform/main.tf"

    async with connect(project, "auto", extra_env=tf_env()) as client:
        r = await client.call_tool("infra-manager", {"operation": "deploy", "env": "test", "auto_approve": True})
        assert not r.is_error and r.structured_content["status"] == "ok", text(r)
        assert bucket in buckets(s3)
        over_http(s3, bucket, lambda: s3.put_object(Bucket=bucket, Key="avatars/1.png", Body=b"\x89PNG"))

        # A rename forces the bucket's replacement: a new, empty bucket. The preview says what is lost ...
        original = main_tf.read_text()
        main_tf.write_text(original.replace('-uploads"', '-user-uploads"', 1))
        r = await client.call_tool("infra-manager", {"operation": "preview-changes", "env": "test"})
        assert not r.is_error, text(r)
        summary = r.structured_content["summary"]
        lost = [c for c in summary["resources"] if c.get("data_loss")]
        assert [c["address"] for c in lost] == ["aws_s3_bucket.uploads"], summary["resources"]
        assert lost[0]["symbol"] == "-/+" and "objects" in lost[0]["data_loss"]
        assert "DATA LOSS" in text(r)

        # ... and the deploy waits for a person although the environment is unprotected and auto_approve is asked.
        r = await client.call_tool("infra-manager", {"operation": "deploy", "env": "test", "auto_approve": True})
        assert not r.is_error, text(r)
        pending = r.structured_content
        assert pending["status"] == "awaiting_confirmation" and pending["steps_required"] == 1, text(r)
        assert "DATA LOSS" in pending["banner"] and "aws_s3_bucket.uploads (-/+)" in pending["banner"], pending["banner"]
        r = await client.call_tool("confirm", {"operation_id": pending["operation_id"], "response": "no"})
        assert r.structured_content["status"] == "cancelled", text(r)
        assert s3.list_object_versions(Bucket=bucket)["Versions"][0]["Key"] == "avatars/1.png", "no keeps the bucket and its objects"
        main_tf.write_text(original)

        # Teardown in the person's words: a banner with every resource, the bucket's data loss, never auto-approved.
        r = await client.call_tool("director", {"request": "tear down the test environment"})
        assert not r.is_error, text(r)
        pending = r.structured_content
        assert pending["status"] == "awaiting_confirmation" and pending["operation"] == "destroy", text(r)
        resources = pending["destroy"]["resources"]
        assert len(resources) == 7 and "aws_s3_bucket.uploads" in resources, resources
        banner = pending["banner"]
        assert "- 7 resources destroyed" in banner and "DATA LOSS" in banner and "the bucket's objects" in banner, banner
        assert ACCOUNT in banner

        # The bucket still holds an object: the teardown stops part way and says what is left and what to do.
        r = await client.call_tool("confirm", {"operation_id": pending["operation_id"], "response": "yes"})
        assert r.is_error, text(r)
        failed = r.structured_content["error"]["details"] if "details" in r.structured_content["error"] else r.structured_content["error"]
        body = json.dumps(failed)
        assert "aws_s3_bucket.uploads" in body and "aws s3 rm" in body, body
        assert bucket in buckets(s3)
        registry = json.loads((state_dir(project) / "deployments/test/registry.json").read_text())
        assert [e["address"] for e in registry["resources"]] == ["aws_s3_bucket.uploads"], "the registry lists what is left"

        # Emptied, the teardown goes through: nothing left in moto, registry and DEPLOYED.md empty.
        # (the policy was destroyed with the rest; the bucket is open to plain http now)
        empty_versioned(s3, bucket)
        r = await client.call_tool("infra-manager", {"operation": "destroy", "env": "test", "auto_approve": True})
        pending = r.structured_content
        assert pending["status"] == "awaiting_confirmation" and pending["destroy"]["resources"] == ["aws_s3_bucket.uploads"], text(r)
        r = await client.call_tool("confirm", {"operation_id": pending["operation_id"], "response": "yes"})
        assert not r.is_error, text(r)
        done = r.structured_content
        assert done["remaining"] == [] and done["applied"]["remove"] == 1, done
        assert bucket not in buckets(s3)
        registry = json.loads((state_dir(project) / "deployments/test/registry.json").read_text())
        assert registry["resource_count"] == 0 and registry["resources"] == []
        assert "- Resources: 0" in (state_dir(project) / "deployments/test/DEPLOYED.md").read_text()

        # A second teardown has nothing to do and asks nothing.
        r = await client.call_tool("director", {"request": "destroy the test env"})
        assert not r.is_error and r.structured_content["status"] == "ok" and "Nothing to tear down" in text(r), text(r)

    trail = [json.loads(line) for line in (state_dir(project) / "audit-trail.jsonl").read_text().splitlines()]
    destroys = {e["outcome"] for e in trail if e["operation"] == "destroy"}
    assert destroys >= {"requested", "approved", "executed", "failed", "succeeded"}, destroys

    # The CLI: an environment that was never deployed has nothing to tear down, and says so.
    proc = run_cli(project, "infra", "destroy", "--env", "prod", env=tf_env(), check=False, timeout=300)
    assert proc.returncode == 0 and "Nothing to tear down in prod" in proc.stdout, proc.stdout + proc.stderr


async def test_a_missing_state_bucket_is_offered_through_the_gate(project, moto):
    require_terraform()
    name = new_project(project, moto, account_id=ACCOUNT)
    s3 = boto(moto, "s3")
    state_bucket = f"{name}-terraform-state"
    assert state_bucket not in buckets(s3)

    proc = run_cli(project, "config", "validate", env=tf_env())
    assert f"the state bucket {state_bucket} (prod) does not exist yet" in proc.stdout or f"the state bucket {state_bucket} (test)" in proc.stdout, proc.stdout

    async with connect(project, "auto", extra_env=tf_env()) as client:
        # The preview stops before terraform with the offer; "no" creates nothing.
        r = await client.call_tool("director", {"request": "preview what will change in test"})
        assert not r.is_error, text(r)
        offer = r.structured_content
        assert offer["status"] == "awaiting_confirmation" and offer["operation"] == "bootstrap-state-backend", text(r)
        assert offer["bucket"] == state_bucket and "versioning" in offer["banner"] and "use_lockfile" in offer["banner"], offer
        assert "preview-changes --env test again" in text(r)
        r = await client.call_tool("confirm", {"operation_id": offer["operation_id"], "response": "no"})
        assert r.structured_content["status"] == "cancelled"
        assert state_bucket not in buckets(s3)

        # "yes" creates it as a state bucket should be; then the preview runs.
        r = await client.call_tool("infra-manager", {"operation": "deploy", "env": "test", "auto_approve": True})
        offer = r.structured_content
        assert offer["status"] == "awaiting_confirmation" and offer["then"] == "deploy --env test", "auto_approve does not create a bucket"
        r = await client.call_tool("confirm", {"operation_id": offer["operation_id"], "response": "yes"})
        assert not r.is_error, text(r)
        assert r.structured_content["calls"][0] == "s3:CreateBucket", r.structured_content
        assert s3.get_bucket_versioning(Bucket=state_bucket)["Status"] == "Enabled"
        rules = s3.get_bucket_encryption(Bucket=state_bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
        assert all(s3.get_public_access_block(Bucket=state_bucket)["PublicAccessBlockConfiguration"].values())
        r = await client.call_tool("director", {"request": "preview what will change in test"})
        assert not r.is_error and r.structured_content["summary"]["add"] == 7, text(r)

    proc = run_cli(project, "config", "validate", env=tf_env())
    assert "Warning" not in proc.stdout, proc.stdout

    # Another machine holds the state lock (Terraform's lock file beside the state, as that run wrote it):
    # the reply names who and since when instead of terraform's raw error.
    path = state_dir(project) / "devops.json"
    config = json.loads(path.read_text())
    config.setdefault("safety", {})["state_lock_wait_seconds"] = 2
    path.write_text(json.dumps(config, indent=2))
    lock = {"ID": "6d2b1c3e-0f5a-4b7e-9c1d-2e3f4a5b6c7d", "Operation": "OperationTypeApply", "Info": "", "Who": "alice@ci-runner-7",
            "Version": "1.11.4", "Created": "2026-12-07T19:00:00.123456Z", "Path": f"{state_bucket}/core/test/terraform.tfstate"}
    s3.put_object(Bucket=state_bucket, Key="core/test/terraform.tfstate.tflock", Body=json.dumps(lock).encode())
    proc = run_cli(project, "--json", "infra", "preview-changes", "--env", "test", env=tf_env(), check=False, timeout=300)
    error = json.loads(proc.stdout)["error"]
    assert proc.returncode == 1 and error["kind"] == "busy", proc.stdout + proc.stderr
    assert "alice@ci-runner-7" in error["message"] and "2026-12-07" in error["message"] and "force-unlock 6d2b1c3e" in error["message"], error
    s3.delete_object(Bucket=state_bucket, Key="core/test/terraform.tfstate.tflock")
    run_cli(project, "infra", "preview-changes", "--env", "test", env=tf_env(), timeout=300)

    # A second copy of the project, as on a teammate's machine: its own checkout, the same backend.
    other = project.parent / f"{project.name}-other-machine"
    shutil.copytree(project, other, ignore=shutil.ignore_patterns("plans", "pending", ".terraform"))

    # On this machine someone runs terraform apply by hand and reads the plan: terraform holds the state lock.
    tfdir = project / "infrastructure/terraform"
    tf = dict(os.environ, **tf_env(), AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1")
    subprocess.run(["terraform", "init", "-input=false", "-reconfigure", "-backend-config=test.s3.tfbackend"], cwd=tfdir, env=tf, check=True,
                   capture_output=True, timeout=300)
    holder = subprocess.Popen(["terraform", "apply", "-var-file=test.tfvars"], cwd=tfdir, env=tf, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    said = []
    reader = threading.Thread(target=lambda: said.extend(iter(lambda: holder.stdout.read(1), "")), daemon=True)
    reader.start()
    deadline = time.time() + 240
    while "Enter a value" not in "".join(said):
        assert holder.poll() is None and time.time() < deadline, "".join(said)
        time.sleep(0.2)
    # The other machine's deploy is told who holds the state and what they run, instead of terraform's raw error.
    proc = run_cli(other, "--json", "infra", "deploy", "--env", "test", "--auto-approve", env=tf_env(), check=False, timeout=300)
    error = json.loads(proc.stdout)["error"]
    assert proc.returncode == 1 and error["kind"] == "busy", proc.stdout + proc.stderr
    assert f"held by {getpass.getuser()}@{socket.gethostname()}" in error["message"] and "running apply" in error["message"], error
    holder.stdin.write("yes\n")
    holder.stdin.flush()
    assert holder.wait(timeout=300) == 0, "".join(said)
    # Exactly one applied: the other machine's next deploy finds nothing left to do.
    proc = run_cli(other, "--json", "infra", "deploy", "--env", "test", "--auto-approve", env=tf_env(), timeout=300)
    body = json.loads(proc.stdout)
    assert body["status"] == "ok" and body["applied"] is None, proc.stdout

    # Both machines deploy the same change at the same moment: one applies it; the other applies nothing and says
    # why (the lock's holder, or that the state moved on under its plan).
    for copy in (project, other):
        main_tf = copy / "infrastructure/terraform/main.tf"
        main_tf.write_text(main_tf.read_text().replace("force_destroy = false", 'force_destroy = false\n  tags          = { Team = "web" }', 1))
    args = ["--json", "infra", "deploy", "--env", "test", "--auto-approve"]
    racers = [subprocess.Popen([binary(), "--project-dir", str(copy), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, **tf_env())) for copy in (project, other)]
    outs = [r.communicate(timeout=600) for r in racers]
    bodies = [json.loads(out) for out, _ in outs]
    applied = [b for b in bodies if b.get("applied")]
    assert len(applied) == 1 and applied[0]["applied"]["change"] >= 1, outs
    [loser] = [b for b in bodies if not b.get("applied")]
    message = json.dumps(loser)
    assert ("error" in loser and (loser["error"]["kind"] == "busy" and "held by" in message or "nothing was applied" in message)) \
        or (loser.get("status") == "ok" and loser["applied"] is None), outs
    assert boto(moto, "s3").get_bucket_tagging(Bucket=f"{name}-core-test-uploads")["TagSet"], "the change is in AWS"
    print("race loser:", loser.get("error", {}).get("kind", "nothing to deploy"), loser.get("error", {}).get("message", "")[:200])


WORKER_DESIGN = """# Worker

A function that does the work.

```json faber-design
{"version": 1, "feature": "worker", "components": [{"type": "lambda_function", "name": "worker"}]}
```
"""


async def test_generated_lambdas_roll_back_through_their_live_alias(project, moto):
    require_terraform()
    run_cli(project, "config", "init", "--endpoint-url", moto)
    engineer_design(project, "worker.md", WORKER_DESIGN)
    name = json.loads((state_dir(project) / "devops.json").read_text())["project"]["name"]
    s3, lam = boto(moto, "s3"), boto(moto, "lambda")
    s3.create_bucket(Bucket=f"{name}-terraform-state")
    function = f"{name}-core-test-worker"

    async with connect(project, "auto", extra_env=tf_env()) as client:
        r = await client.call_tool("infra-manager", {"operation": "deploy", "env": "test", "auto_approve": True})
        assert not r.is_error and r.structured_content["status"] == "ok", text(r)
        first = lam.get_alias(FunctionName=function, Name="live")["FunctionVersion"]
        assert first != "$LATEST", "the alias points at a published version"

        # New code: a new version, and the alias follows it.
        handler = next((project / "infrastructure/terraform/src/worker").iterdir())
        handler.write_text(handler.read_text().replace('"ok": True', '"ok": True, "v": 2'))
        r = await client.call_tool("infra-manager", {"operation": "deploy", "env": "test", "auto_approve": True})
        assert not r.is_error and r.structured_content["status"] == "ok", text(r)
        second = lam.get_alias(FunctionName=function, Name="live")["FunctionVersion"]
        assert int(second) > int(first), (first, second)

        # Rollback in the person's words: the alias goes back to the previous version.
        r = await client.call_tool("director", {"request": "roll back the worker lambda in test"})
        assert not r.is_error, text(r)
        pending = r.structured_content
        assert pending["status"] == "awaiting_confirmation" and "remediate rollback" in pending["operation"], text(r)
        assert f"from version {second} back to version {first}" in pending["banner"], pending["banner"]
        r = await client.call_tool("confirm", {"operation_id": pending["operation_id"], "response": "yes"})
        assert not r.is_error, text(r)
        assert lam.get_alias(FunctionName=function, Name="live")["FunctionVersion"] == first

        # Terraform sees it: the next preview moves the alias forward again.
        r = await client.call_tool("infra-manager", {"operation": "preview-changes", "env": "test"})
        assert not r.is_error, text(r)
        changes = {c["address"]: c for c in r.structured_content["summary"]["resources"]}
        assert list(changes) == ["aws_lambda_alias.worker"] and changes["aws_lambda_alias.worker"]["symbol"] == "~", changes
        [reverts] = r.structured_content["reverts"]
        assert reverts.startswith(f"undoes the rollback of worker made at ") and f"({second} → {first})" in reverts, reverts

        # ... and a deploy that would undo it waits for a person, even with auto_approve, saying so and how to keep it.
        r = await client.call_tool("infra-manager", {"operation": "deploy", "env": "test", "auto_approve": True})
        pending = r.structured_content
        assert pending["status"] == "awaiting_confirmation", text(r)
        assert "undoes remediations made since the last deploy" in pending["banner"] and "rollback of worker" in pending["banner"], pending["banner"]
        assert "keep_remediations" in pending["banner"], pending["banner"]
        r = await client.call_tool("confirm", {"operation_id": pending["operation_id"], "response": "no"})
        assert r.structured_content["status"] == "cancelled", text(r)

        # Keeping it: the rollback is written into test.tfvars and the plan leaves the alias where it is.
        r = await client.call_tool("infra-manager", {"operation": "deploy", "env": "test", "auto_approve": True, "keep_remediations": True})
        assert not r.is_error and r.structured_content["status"] == "ok", text(r)
        assert r.structured_content["applied"] is None, "nothing left to apply: " + text(r)
        assert lam.get_alias(FunctionName=function, Name="live")["FunctionVersion"] == first
        tfvars = (project / "infrastructure/terraform/test.tfvars").read_text()
        assert "kept_live_versions" in tfvars and f'worker = "{first}"' in tfvars, tfvars

        # A hand edit inside a generated file: engineer shows the diff and the two ways forward, then adopts it.
        main_tf = project / "infrastructure/terraform/main.tf"
        generated = main_tf.read_text()
        edited = re.sub(r"memory_size(\s*)= \d+", r"memory_size\1= 512", generated, count=1)
        edited += '\nresource "aws_sqs_queue" "scratch" {\n  name                    = "scratch"\n  sqs_managed_sse_enabled = true\n}\n'
        main_tf.write_text(edited)
        r = await client.call_tool("infra-manager", {"operation": "engineer", "design": "worker.md"})
        assert r.is_error, text(r)
        report = r.structured_content["error"]["report"]
        assert report["files"][0]["file"] == "main.tf" and "+  memory_size" in report["files"][0]["diff"], report
        assert "adopt" in report["ways_forward"][0] and "overwrite" in report["ways_forward"][1], report
        assert main_tf.read_text() == edited, "nothing written"
        r = await client.call_tool("infra-manager", {"operation": "engineer", "design": "worker.md", "hand_edits": "adopt"})
        assert not r.is_error, text(r)
        assert main_tf.read_text() == generated and "memory_size = 512" in (main_tf.parent / "adopted_override.tf").read_text()
        assert 'resource "aws_sqs_queue" "scratch"' in (main_tf.parent / "adopted.tf").read_text()
        assert "kept_live_versions" in (project / "infrastructure/terraform/test.tfvars").read_text(), "engineer keeps what was kept"
        # Terraform reads the adopted files as the edit: the function changes, the queue is new, the alias stays.
        r = await client.call_tool("infra-manager", {"operation": "deploy", "env": "test", "auto_approve": True})
        assert not r.is_error and r.structured_content["status"] == "ok", text(r)
        applied = r.structured_content["applied"]
        assert (applied["add"], applied["change"], applied["remove"]) == (1, 1, 0), text(r)
        assert lam.get_function_configuration(FunctionName=function)["MemorySize"] == 512
        assert lam.get_alias(FunctionName=function, Name="live")["FunctionVersion"] == first, "the kept rollback holds"


async def test_a_second_request_extends_the_stack_with_its_parts_wired(project, moto):
    require_terraform()
    run_cli(project, "config", "init", "--endpoint-url", moto)
    name = json.loads((state_dir(project) / "devops.json").read_text())["project"]["name"]
    s3, lam, iam = boto(moto, "s3"), boto(moto, "lambda"), boto(moto, "iam")
    s3.create_bucket(Bucket=f"{name}-terraform-state")
    bucket, function, table = f"{name}-core-test-uploads", f"{name}-core-test-worker", f"{name}-core-test-items"

    async with connect(project, "auto", extra_env=tf_env()) as client:
        for request in ["design an S3 bucket for user uploads", "generate terraform code from the design"]:
            r = await client.call_tool("director", {"request": request})
            assert not r.is_error, text(r)
        r = await client.call_tool("infra-manager", {"operation": "deploy", "env": "test", "auto_approve": True})
        assert not r.is_error and r.structured_content["status"] == "ok", text(r)

        # The second request revises the design: the bucket stays, the function and the table join, wired.
        r = await client.call_tool("director", {"request": "add a Lambda that processes each upload and records it in a DynamoDB table"})
        assert not r.is_error, text(r)
        designs = list((state_dir(project) / "designs").glob("*.md"))
        assert len(designs) == 1, designs
        doc = designs[0].read_text()
        assert "## Connections" in doc and "| uploads | worker |" in doc and "| worker | items |" in doc, doc
        r = await client.call_tool("director", {"request": "generate terraform code from the design"})
        assert not r.is_error, text(r)
        r = await client.call_tool("infra-manager", {"operation": "preview-changes", "env": "test"})
        assert not r.is_error, text(r)
        summary = r.structured_content["summary"]
        assert summary["destroy"] == 0 and summary["replace"] == 0 and summary["change"] == 0 and summary["add"] > 0, summary
        r = await client.call_tool("infra-manager", {"operation": "deploy", "env": "test", "auto_approve": True})
        assert not r.is_error and r.structured_content["status"] == "ok", text(r)

    # What AWS says: the bucket notifies the alias, S3 may invoke it, the role may write that table only,
    # and the function's environment names the table.
    alias_arn = lam.get_alias(FunctionName=function, Name="live")["AliasArn"]
    notified = s3.get_bucket_notification_configuration(Bucket=bucket)["LambdaFunctionConfigurations"]
    assert [n["LambdaFunctionArn"] for n in notified] == [alias_arn], notified
    policy = json.loads(lam.get_policy(FunctionName=function, Qualifier="live")["Policy"])
    assert any(s["Principal"] == {"Service": "s3.amazonaws.com"} and s["Action"] == "lambda:InvokeFunction" for s in policy["Statement"]), policy
    role = lam.get_function(FunctionName=function)["Configuration"]["Role"].rsplit("/", 1)[1]
    [policy_name] = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    table_arn = boto(moto, "dynamodb").describe_table(TableName=table)["Table"]["TableArn"]
    writes = [s for s in document["Statement"] if "dynamodb:PutItem" in s["Action"]]
    assert len(writes) == 1 and writes[0]["Resource"] == [table_arn], document
    variables = lam.get_function_configuration(FunctionName=function)["Environment"]["Variables"]
    assert variables["ITEMS_TABLE"] == table and variables["UPLOADS_BUCKET"] == bucket, variables

    async with connect(project, "auto", extra_env=tf_env()) as client:
        # New handler code goes out as a new version behind the alias; a rollback puts the alias back.
        first = lam.get_alias(FunctionName=function, Name="live")["FunctionVersion"]
        handler = next((project / "infrastructure/terraform/src/worker").iterdir())
        handler.write_text(handler.read_text() + "\n# v2\n")
        r = await client.call_tool("infra-manager", {"operation": "deploy", "env": "test", "auto_approve": True})
        assert not r.is_error and r.structured_content["status"] == "ok", text(r)
        second = lam.get_alias(FunctionName=function, Name="live")["FunctionVersion"]
        assert int(second) > int(first), (first, second)
        r = await client.call_tool("director", {"request": "roll back the worker lambda in test"})
        r = await client.call_tool("confirm", {"operation_id": r.structured_content["operation_id"], "response": "yes"})
        assert not r.is_error, text(r)
        assert lam.get_alias(FunctionName=function, Name="live")["FunctionVersion"] == first

        # Taking the table out: a revision of the design. AWS refuses to delete a table under deletion protection,
        # so its protection goes first (deployed without data loss), then the table.
        r = await client.call_tool("director", {"request": "remove the DynamoDB table"})
        assert not r.is_error and r.structured_content["routed"]["operation"] == "architect", text(r)
        assert "the first of two steps" in r.structured_content["changed"], text(r)
        r = await client.call_tool("director", {"request": "generate terraform code from the design"})
        # The rollback stays: kept in test.tfvars instead of undone by this deploy.
        r = await client.call_tool("infra-manager", {"operation": "deploy", "env": "test", "auto_approve": True, "keep_remediations": True})
        assert not r.is_error and r.structured_content["status"] == "ok", text(r)
        assert lam.get_alias(FunctionName=function, Name="live")["FunctionVersion"] == first
        r = await client.call_tool("director", {"request": "remove the DynamoDB table"})
        assert r.structured_content["changed"] == "removed items (dynamodb_table)", text(r)
        r = await client.call_tool("director", {"request": "generate terraform code from the design"})
        assert not r.is_error, text(r)
        r = await client.call_tool("infra-manager", {"operation": "deploy", "env": "test", "auto_approve": True})
        pending = r.structured_content
        assert pending["status"] == "awaiting_confirmation", text(r)
        assert "DATA LOSS" in pending["banner"] and "aws_dynamodb_table.items (-): the table's items" in pending["banner"], pending["banner"]
        r = await client.call_tool("confirm", {"operation_id": pending["operation_id"], "response": "no"})
        assert r.structured_content["status"] == "cancelled"
        assert boto(moto, "dynamodb").describe_table(TableName=table)["Table"]["TableStatus"] == "ACTIVE"
        r = await client.call_tool("infra-manager", {"operation": "deploy", "env": "test"})
        r = await client.call_tool("confirm", {"operation_id": r.structured_content["operation_id"], "response": "yes"})
        assert not r.is_error, text(r)
        assert table not in boto(moto, "dynamodb").list_tables()["TableNames"]
        assert "ITEMS_TABLE" not in lam.get_function_configuration(FunctionName=function)["Environment"]["Variables"]

        # And the whole environment goes: nothing of it left in moto, the registry empty.
        r = await client.call_tool("director", {"request": "tear down the test environment"})
        r = await client.call_tool("confirm", {"operation_id": r.structured_content["operation_id"], "response": "yes"})
        assert not r.is_error and r.structured_content["remaining"] == [], text(r)
        assert bucket not in buckets(s3) and function not in [f["FunctionName"] for f in lam.list_functions()["Functions"]]
        assert json.loads((state_dir(project) / "deployments/test/registry.json").read_text())["resource_count"] == 0
