"""preview-changes with the real terraform and its AWS provider against moto:
init with the environment's S3 backend, plan, show -json, summary, cost
impact, and the saved plan with its digest."""

import hashlib
import json
import os
import shutil
import subprocess

import pytest

from conftest import connect, run_cli

pytestmark = pytest.mark.anyio


def structured(r):
    return r.structured_content


def text(r):
    return "\n".join(c.text for c in r.content if getattr(c, "type", "") == "text")


async def test_preview_changes_against_moto(project, moto):
    if not shutil.which("terraform"):
        pytest.fail("terraform is not on PATH: install Terraform 1.5+ (this test runs the real binary)")
    if not os.path.isfile(os.environ.get("TF_CLI_CONFIG_FILE", "")):
        pytest.fail("TF_CLI_CONFIG_FILE does not name a file: run through scripts/test, which points terraform at the provider mirror")
    import boto3

    run_cli(project, "config", "init", "--endpoint-url", moto)
    run_cli(project, "infra", "architect", "--feature", "user uploads")
    run_cli(project, "infra", "engineer")
    name = json.loads((project / ".fractary/plugins/faber-cloud/devops.json").read_text())["project"]["name"]
    s3 = boto3.client("s3", endpoint_url=moto, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    s3.create_bucket(Bucket=f"{name}-terraform-state")

    env = {"TF_CLI_CONFIG_FILE": os.environ["TF_CLI_CONFIG_FILE"], "AWS_MAX_ATTEMPTS": "1"}
    async with connect(project, "auto", extra_env=env) as client:
        r = await client.call_tool("director", {"request": "preview what will change in test"})
        assert not r.is_error, text(r)
        body = structured(r)
        assert body["routed"]["operation"] == "preview-changes"
        summary = body["summary"]
        assert (summary["add"], summary["change"], summary["destroy"]) == (7, 0, 0)
        assert {c["address"] for c in summary["resources"]} >= {"aws_s3_bucket.uploads", "aws_s3_bucket_versioning.uploads"}
        assert all(c["symbol"] == "+" for c in summary["resources"])
        assert body["cost_impact"]["after"] > 0 and body["cost_impact"]["before"] == 0
        plan_file = body["plan_file"]
        with open(plan_file, "rb") as f:
            assert body["digest"] == "sha256:" + hashlib.sha256(f.read()).hexdigest()
        latest = json.loads((project / ".fractary/plugins/faber-cloud/plans/test/latest.json").read_text())
        assert latest["digest"] == body["digest"] and latest["add"] == 7
        assert "Plan: 7 to add, 0 to change, 0 to destroy." in text(r)
    # Nothing was applied: the preview created no bucket beyond the state bucket.
    # (moto is shared by the session: only this project's buckets count.)
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith(f"{name}-")}
    assert buckets == {f"{name}-terraform-state"}, buckets

    # Apply the saved plan here, as deploy will (deploy itself is not built yet), then list what exists.
    tfdir = project / "infrastructure/terraform"
    tf_env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1", TF_IN_AUTOMATION="1")
    done = subprocess.run(["terraform", "apply", "-input=false", "-no-color", plan_file], cwd=tfdir, env=tf_env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{name}-core-test-uploads" in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    async with connect(project, "legacy", extra_env=env) as client:
        r = await client.call_tool("director", {"request": "show me deployed resources in test"})
        assert not r.is_error, text(r)
        body = structured(r)
        assert body["source"] == "state" and body["count"] == 7
        bucket = next(x for x in body["resources"] if x["address"] == "aws_s3_bucket.uploads")
        assert bucket["name"] == f"{name}-core-test-uploads"
        assert bucket["arn"] == f"arn:aws:s3:::{name}-core-test-uploads"
        assert bucket["console_url"].startswith("https://s3.console.aws.amazon.com/s3/buckets/")
