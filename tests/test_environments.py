"""Any environment configured in devops.json works from the configuration alone, with the real terraform
against moto: a staging environment added after engineer ran fails its pre-deployment tests naming the
missing files, and "deploy to staging" writes them first (and says so), then deploys."""

import json

import pytest

from conftest import connect, require_terraform, run_cli
from test_deploy import ACCOUNT, boto, new_project, state_dir, text, tf_env

pytestmark = pytest.mark.anyio


async def test_an_environment_added_to_the_configuration_deploys_without_engineer(project, moto):
    require_terraform()
    name = new_project(project, moto, account_id=ACCOUNT)
    path = state_dir(project) / "devops.json"
    config = json.loads(path.read_text())
    config["environments"]["staging"] = dict(config["environments"]["test"], cost_threshold=200.0)
    profiles = config["handlers"]["hosting"]["aws"].setdefault("profiles", {})
    profiles["staging"] = f"{name}-staging-deploy"
    path.write_text(json.dumps(config, indent=2))
    terraform = project / "infrastructure/terraform"
    assert not (terraform / "staging.tfvars").exists()

    # The pre-deployment tests fail and name what is missing, instead of passing.
    proc = run_cli(project, "--json", "infra", "test", "--env", "staging", env=tf_env(), check=False, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)["error"]["details"] if "details" in json.loads(proc.stdout).get("error", {}) else json.loads(proc.stdout)
    body = json.dumps(report)
    assert "staging.tfvars" in body and "staging.s3.tfbackend" in body, body

    s3 = boto(moto, "s3")
    s3.create_bucket(Bucket=f"{name}-terraform-state")
    async with connect(project, "auto", extra_env=tf_env()) as client:
        r = await client.call_tool("director", {"request": "deploy to staging"})
        assert not r.is_error, text(r)
        if r.structured_content["status"] == "awaiting_confirmation":
            assert "Generated staging.tfvars and staging.s3.tfbackend" in text(r), text(r)
            r = await client.call_tool("confirm", {"operation_id": r.structured_content["operation_id"], "response": "yes"})
            assert not r.is_error, text(r)
        else:
            assert "Generated staging.tfvars and staging.s3.tfbackend" in text(r), text(r)
        assert r.structured_content["status"] == "ok", text(r)
    assert (terraform / "staging.tfvars").read_text().strip().startswith("environment"), (terraform / "staging.tfvars").read_text()
    assert f"{name}-core-staging-uploads" in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    # The test environment's files were not touched, and its state is its own.
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=f"{name}-terraform-state").get("Contents", [])}
    assert any("staging" in k for k in keys) and not any("/test/" in k for k in keys), keys
