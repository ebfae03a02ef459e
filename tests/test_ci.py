"""The CI workflow's commands (docs/ci.md), run as CI runs them: CI=true, no terminal, the real terraform
against moto. The test environment deploys; prod stops with exit code 3 and its pending operation unless
the command names prod in its approval flag, and that approval is in the audit trail with the run's
identity. The flag is refused outside CI, for another environment, and through MCP."""

import json

import pytest

from conftest import connect, require_terraform, run_cli
from test_deploy import ACCOUNT, boto, new_project, state_dir, text, tf_env

pytestmark = pytest.mark.anyio

GITHUB = {"CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/shop", "GITHUB_RUN_ID": "4242", "GITHUB_WORKFLOW": "infra",
          "GITHUB_ACTOR": "octocat"}


async def test_ci_deploys_test_and_prod_only_with_the_approval_flag(project, moto):
    require_terraform()
    name = new_project(project, moto, account_id=ACCOUNT)
    s3 = boto(moto, "s3")
    s3.create_bucket(Bucket=f"{name}-terraform-state")
    ci = tf_env(GITHUB)

    # A pull request: the scan as SARIF, the pre-deployment tests (exit 0 on PASS/WARN), the preview.
    proc = run_cli(project, "scan", str(project / "infrastructure/terraform"), "--format", "sarif", "--fail-on", "critical", env=ci, check=False, timeout=300)
    assert proc.returncode in (0, 1) and json.loads(proc.stdout)["version"] == "2.1.0", proc.stderr
    run_cli(project, "infra", "test", "--env", "test", env=ci, timeout=300)
    proc = run_cli(project, "infra", "preview-changes", "--env", "test", "--format", "markdown", env=ci, timeout=300)
    assert proc.stdout.startswith("### Preview of `test`: +") and "| `+` | `aws_s3_bucket.uploads` |" in proc.stdout, proc.stdout
    assert "Cost impact:" in proc.stdout, proc.stdout

    # On main: test deploys.
    run_cli(project, "infra", "deploy", "--env", "test", "--auto-approve", env=ci, timeout=600)
    assert f"{name}-core-test-uploads" in {b["Name"] for b in s3.list_buckets()["Buckets"]}

    # Prod without the flag: exit 3 and the pending operation, nothing applied.
    proc = run_cli(project, "--json", "infra", "deploy", "--env", "prod", "--auto-approve", env=ci, check=False, timeout=600)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    pending = json.loads(proc.stdout)
    assert pending["status"] == "awaiting_confirmation" and pending["operation_id"], pending
    stale_id = pending["operation_id"]
    # Promotion: the banner says this exact code went to test, when, and that test was not checked since.
    banner = pending["banner"]
    assert "This exact code" in banner and "was deployed to test at" in banner and "no health check of test since then" in banner, banner
    assert f"{name}-core-prod-uploads" not in {b["Name"] for b in s3.list_buckets()["Buckets"]}

    # The flag is refused for another environment, and outside CI.
    proc = run_cli(project, "--json", "infra", "deploy", "--env", "prod", "--ci-approve", "test", env=ci, check=False, timeout=300)
    assert proc.returncode == 2 and json.loads(proc.stdout)["error"]["field"] == "ci-approve", proc.stdout
    not_ci = tf_env({"CI": ""})
    proc = run_cli(project, "--json", "infra", "deploy", "--env", "prod", "--ci-approve", "prod", env=not_ci, check=False, timeout=300)
    assert proc.returncode == 2 and "only in CI" in json.loads(proc.stdout)["error"]["message"], proc.stdout

    # Named: prod deploys, and the audit trail says who approved it.
    proc = run_cli(project, "--json", "infra", "deploy", "--env", "prod", "--ci-approve", "prod", env=ci, check=False, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["status"] == "ok"
    assert f"{name}-core-prod-uploads" in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    trail = [json.loads(line) for line in (state_dir(project) / "audit-trail.jsonl").read_text().splitlines()]
    approved = [e for e in trail if e["env"] == "prod" and e["outcome"] == "approved"]
    assert approved and "GitHub Actions run 4242 of acme/shop" in approved[-1]["detail"] and "octocat" in approved[-1]["detail"], approved

    # The prod approval asked before that deploy is answered now: its plan is stale, and nothing is applied.
    proc = run_cli(project, "--json", "confirm", stale_id, "yes", check=False, timeout=300)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    proc = run_cli(project, "--json", "confirm", json.loads(proc.stdout)["operation_id"], "yes", env=ci, check=False, timeout=600)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "changed since this plan was made" in json.loads(proc.stdout)["error"]["message"], proc.stdout

    # Code that never went to test is allowed, and called out.
    main_tf = project / "infrastructure/terraform/main.tf"
    main_tf.write_text(main_tf.read_text().replace("force_destroy = false", 'force_destroy = false\n  tags          = { Team = "web" }', 1))
    proc = run_cli(project, "--json", "infra", "deploy", "--env", "prod", env=ci, check=False, timeout=600)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    banner = json.loads(proc.stdout)["banner"]
    assert "was never deployed to an unprotected environment first" in banner and "test runs" in banner, banner

    # In order: test takes the change, then prod stops for its approval, now saying test has this code.
    proc = run_cli(project, "--json", "infra", "deploy", "--env", "test,prod", "--auto-approve", env=ci, check=False, timeout=900)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    replies = json.loads(proc.stdout)
    assert [r["env"] for r in replies] == ["test", "prod"], replies
    assert replies[0]["reply"]["status"] == "ok" and replies[1]["reply"]["status"] == "awaiting_confirmation", replies
    assert "This exact code" in replies[1]["reply"]["banner"], replies[1]["reply"]["banner"]

    # An agent cannot use it: the MCP tool does not take the field.
    async with connect(project, "auto", extra_env=ci) as client:
        r = await client.call_tool("infra-manager", {"operation": "deploy", "env": "prod", "ci_approve": "prod"})
        assert r.is_error, text(r)
