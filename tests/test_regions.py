"""One environment in two regions, with the real terraform against moto (which
serves every region on one endpoint) and a real MCP client: the stack deploys
once per region behind one gate, the bucket and the function exist in both
regions (asked through the SDK per region), the IAM role exists once; the
registry and DEPLOYED.md show both regions; health covers both, and a region
named narrows it."""

import json

import pytest

from conftest import connect, require_terraform, run_cli
from test_deploy import boto, engineer_design, state_dir, text, tf_env

pytestmark = pytest.mark.anyio

DESIGN = """# Uploads

Uploaded files, processed by a worker.

```json faber-design
{"version": 1, "feature": "uploads", "components": [
  {"type": "s3_bucket", "name": "uploads"},
  {"type": "lambda_function", "name": "worker", "settings": {"triggered_by": ["uploads"]}}]}
```
"""


async def test_one_environment_deploys_to_two_regions(project, moto):
    require_terraform()
    run_cli(project, "config", "init", "--endpoint-url", moto)
    engineer_design(project, "uploads.md", DESIGN)
    # A second region added to devops.json after engineer ran: the one-region stack is refused, saying what to do.
    path = state_dir(project) / "devops.json"
    config = json.loads(path.read_text())
    config["handlers"]["hosting"]["aws"]["regions"] = ["us-east-1", "eu-west-1"]
    path.write_text(json.dumps(config, indent=2))
    name = config["project"]["name"]
    proc = run_cli(project, "--json", "infra", "preview-changes", "--env", "test", env=tf_env(), check=False)
    assert proc.returncode == 2 and "generated for one region" in proc.stdout and "run engineer again" in proc.stdout, proc.stdout
    run_cli(project, "infra", "engineer", "--design", "uploads.md")
    tfdir = project / "infrastructure/terraform"
    assert (tfdir / "test.eu-west-1.tfvars").is_file() and (tfdir / "test.eu-west-1.s3.tfbackend").is_file()
    boto(moto, "s3").create_bucket(Bucket=f"{name}-terraform-state")
    function = f"{name}-core-test-worker"

    async with connect(project, "auto", extra_env=tf_env()) as client:
        # The preview plans both regions.
        r = await client.call_tool("infra-manager", {"operation": "preview-changes", "env": "test"})
        assert not r.is_error, text(r)
        preview = r.structured_content
        assert preview["region"] == "us-east-1" and [o["region"] for o in preview["other_regions"]] == ["eu-west-1"], preview
        primary_add, other_add = preview["summary"]["add"], preview["other_regions"][0]["summary"]["add"]
        assert primary_add > other_add > 0, "the role and its attachments are created in the primary region only"

        # One deploy over both regions: the primary first, then eu-west-1.
        r = await client.call_tool("infra-manager", {"operation": "deploy", "env": "test", "auto_approve": True})
        assert not r.is_error and r.structured_content["status"] == "ok", text(r)
        report = r.structured_content
        assert report["applied"]["add"] == primary_add + other_add, report["applied"]
        assert "in us-east-1, eu-west-1" in next(s["detail"] for s in report["steps"] if s["n"] == 4)

    # What AWS says, region by region: the bucket and the function in both, the role once.
    for region, bucket in [("us-east-1", f"{name}-core-test-uploads"), ("eu-west-1", f"{name}-core-test-uploads-eu-west-1")]:
        s3, lam = boto(moto, "s3", region=region), boto(moto, "lambda", region=region)
        location = s3.get_bucket_location(Bucket=bucket)["LocationConstraint"]
        assert (location or "us-east-1") == region, (bucket, location)
        conf = lam.get_function_configuration(FunctionName=function)
        assert conf["FunctionArn"].split(":")[3] == region, conf["FunctionArn"]
        alias = lam.get_alias(FunctionName=function, Name="live")["AliasArn"]
        notified = s3.get_bucket_notification_configuration(Bucket=bucket)["LambdaFunctionConfigurations"]
        assert [n["LambdaFunctionArn"] for n in notified] == [alias], "each region's bucket invokes its own region's function"
    roles = [r["RoleName"] for r in boto(moto, "iam").list_roles()["Roles"] if r["RoleName"].startswith(f"{name}-core-test-worker")]
    assert roles == [f"{name}-core-test-worker-role"], roles
    assert boto(moto, "lambda", region="eu-west-1").get_function_configuration(FunctionName=function)["Role"].endswith(f"role/{roles[0]}")

    # The registry and DEPLOYED.md: every resource under its region.
    registry = json.loads((state_dir(project) / "deployments/test/registry.json").read_text())
    assert registry["regions"] == ["us-east-1", "eu-west-1"], registry.get("regions")
    by_region = {r: [e["address"] for e in registry["resources"] if e["region"] == r] for r in registry["regions"]}
    assert "aws_lambda_function.worker" in by_region["us-east-1"] and "aws_lambda_function.worker" in by_region["eu-west-1"]
    assert "aws_iam_role.worker[0]" in by_region["us-east-1"] and not any(a.startswith("aws_iam_role.worker") for a in by_region["eu-west-1"])
    md = (state_dir(project) / "deployments/test/DEPLOYED.md").read_text()
    assert "## Region us-east-1" in md and "## Region eu-west-1" in md and "regions: us-east-1, eu-west-1" in md, md

    # Health covers both regions; a region named (by code, or by the director from a place) narrows it.
    proc = run_cli(project, "--json", "ops", "check-health", "--env", "test", env=tf_env(), check=False, timeout=120)
    health = json.loads(proc.stdout)
    workers = sorted(s["region"] for s in health["services"] if s["service"] == "worker")
    assert workers == ["eu-west-1", "us-east-1"], health["services"]
    proc = run_cli(project, "--json", "ops", "check-health", "--env", "test", "--region", "eu-west-1", env=tf_env(), check=False, timeout=120)
    narrowed = json.loads(proc.stdout)
    assert {s["region"] for s in narrowed["services"]} == {"eu-west-1"}, proc.stdout
    proc = run_cli(project, "--json", "ops", "check-health", "--env", "test", "--region", "ap-south-1", env=tf_env(), check=False)
    assert proc.returncode == 2 and json.loads(proc.stdout)["error"]["field"] == "region", proc.stdout
    proc = run_cli(project, "--json", "director", "check health of the worker in Ireland", env=tf_env(), check=False, timeout=120)
    directed = json.loads(proc.stdout)
    assert directed["routed"]["args"]["region"] == "eu-west-1" and {s["region"] for s in directed["services"]} == {"eu-west-1"}, proc.stdout

    # A second deploy has nothing to do in either region.
    proc = run_cli(project, "--json", "infra", "deploy", "--env", "test", "--auto-approve", env=tf_env(), timeout=600)
    again = json.loads(proc.stdout)
    assert again["applied"] is None and again["resource_count"] == registry["resource_count"], proc.stdout

    # Teardown: one banner over both regions; eu-west-1 goes first (its function uses the primary's role).
    async with connect(project, "auto", extra_env=tf_env()) as client:
        r = await client.call_tool("director", {"request": "tear down the test environment"})
        pending = r.structured_content
        assert pending["status"] == "awaiting_confirmation", text(r)
        assert "[eu-west-1] aws_lambda_function.worker" in pending["banner"] and "[us-east-1] aws_iam_role.worker[0]" in pending["banner"], pending["banner"]
        assert "eu-west-1 first and us-east-1 last" in pending["banner"], pending["banner"]
        r = await client.call_tool("confirm", {"operation_id": pending["operation_id"], "response": "yes"})
        assert not r.is_error and r.structured_content["remaining"] == [], text(r)
    for region in ["us-east-1", "eu-west-1"]:
        assert not [f for f in boto(moto, "lambda", region=region).list_functions()["Functions"] if f["FunctionName"] == function], region
    assert not [r for r in boto(moto, "iam").list_roles()["Roles"] if r["RoleName"].startswith(f"{name}-core-test-worker")]
    assert json.loads((state_dir(project) / "deployments/test/registry.json").read_text())["resource_count"] == 0
