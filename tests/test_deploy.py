"""deploy end to end with the real terraform and its AWS provider against moto,
driven through a real MCP client: preview → deploy to test (auto-approve) →
registry and DEPLOYED.md with real ARNs → a change previews as `~` → deploy to
prod waits for two "yes" answers (a "no" cancels and changes nothing) →
show-resources. Then a permission failure on a moto that enforces IAM: debug
classifies it, the least-privilege fix goes through the gate and is applied
with the discover profile, the retried deploy succeeds, and the learning log
counts one attempt and one success."""

import json
import os

import pytest

from conftest import connect, require_terraform, run_cli, start_moto

pytestmark = pytest.mark.anyio

ACCOUNT = "123456789012"


def text(r):
    return "\n".join(c.text for c in r.content if getattr(c, "type", "") == "text")


def state_dir(project):
    return project / ".fractary/plugins/faber-cloud"


def boto(endpoint, service, key="testing", secret="testing", region="us-east-1"):
    import boto3

    return boto3.client(service, endpoint_url=endpoint, region_name=region, aws_access_key_id=key, aws_secret_access_key=secret)


def engineer_design(project, file, text):
    """Writes the design document `designs/{file}` and generates its Terraform."""
    (state_dir(project) / "designs").mkdir(parents=True, exist_ok=True)
    (state_dir(project) / "designs" / file).write_text(text)
    run_cli(project, "infra", "engineer", "--design", file)


def new_project(project, endpoint, profiles=None, account_id=None):
    run_cli(project, "config", "init", "--endpoint-url", endpoint)
    path = state_dir(project) / "devops.json"
    config = json.loads(path.read_text())
    aws = config["handlers"]["hosting"]["aws"]
    if profiles:
        aws["profiles"] = profiles
    if account_id:
        aws["account_id"] = account_id
    path.write_text(json.dumps(config, indent=2))
    run_cli(project, "infra", "architect", "--feature", "user uploads")
    run_cli(project, "infra", "engineer")
    return config["project"]["name"]


def tf_env(extra=None):
    env = {"TF_CLI_CONFIG_FILE": os.environ["TF_CLI_CONFIG_FILE"], "AWS_MAX_ATTEMPTS": "1"}
    env.update(extra or {})
    return env


async def test_deploy_through_the_gate_against_moto(project, moto):
    require_terraform()
    name = new_project(project, moto, account_id=ACCOUNT)
    s3 = boto(moto, "s3")
    s3.create_bucket(Bucket=f"{name}-terraform-state")
    bucket = f"{name}-core-test-uploads"
    prod_bucket = f"{name}-core-prod-uploads"

    async with connect(project, "auto", extra_env=tf_env()) as client:
        # Deploy to test with auto-approve: all nine steps, reported as progress.
        seen = []

        async def progress(done, total, message):
            seen.append((done, total, message))

        r = await client.call_tool("infra-manager", {"operation": "deploy", "env": "test", "auto_approve": True}, progress_callback=progress)
        assert not r.is_error, text(r)
        body = r.structured_content
        assert body["status"] == "ok"
        assert [s["n"] for s in body["steps"]] == list(range(1, 10)), body["steps"]
        assert body["applied"]["add"] == 7
        assert body["caller"]["account"] == ACCOUNT
        assert {p[0] for p in seen} >= set(range(1, 10)), seen
        assert all(p[1] == 9 for p in seen)
        assert bucket in {b["Name"] for b in s3.list_buckets()["Buckets"]}
        verified = {v["address"]: v for v in body["verification"]}
        assert verified["aws_s3_bucket.uploads"]["presence"] == "exists"
        assert verified["aws_s3_bucket.uploads"]["detail"].startswith("s3:HeadBucket")

        registry = json.loads((state_dir(project) / "deployments/test/registry.json").read_text())
        entry = next(e for e in registry["resources"] if e["address"] == "aws_s3_bucket.uploads")
        assert entry["arn"] == f"arn:aws:s3:::{bucket}"
        assert entry["console_url"].startswith("https://s3.console.aws.amazon.com/s3/buckets/")
        assert entry["tags"]["Environment"] == "test"
        assert registry["resource_count"] == 7 and registry["account"] == ACCOUNT
        deployed = (state_dir(project) / "deployments/test/DEPLOYED.md").read_text()
        assert f"arn:aws:s3:::{bucket}" in deployed and "- Resources: 7" in deployed
        post = json.loads(open(body["post_deployment"]["report"]).read())
        assert post["phase"] == "post-deployment"
        assert {t["name"] for t in post["tests"]} == {"existence", "configuration", "monitoring"}
        assert next(t for t in post["tests"] if t["name"] == "existence")["status"] != "FAIL"
        # A clean deploy reads clean: every resource checked against AWS agrees (moto included).
        step = {s["name"]: s for s in body["steps"]}
        assert step["verify"]["status"] == "ok", step["verify"]
        assert next(t for t in post["tests"] if t["name"] == "configuration")["status"] == "PASS", post["tests"]

        # The post-deployment tests on their own.
        r = await client.call_tool("infra-manager", {"operation": "test", "env": "test", "phase": "post-deployment"})
        assert not r.is_error, text(r)
        assert r.structured_content["phase"] == "post-deployment" and len(r.structured_content["verification"]) == 7

        # A change: preview shows `~`.
        main_tf = project / "infrastructure/terraform/main.tf"
        main_tf.write_text(main_tf.read_text().replace("noncurrent_days = 90", "noncurrent_days = 30"))
        r = await client.call_tool("director", {"request": "preview what will change in test"})
        assert not r.is_error, text(r)
        changes = r.structured_content["summary"]
        assert (changes["add"], changes["change"], changes["destroy"]) == (0, 1, 0), changes
        assert [c["symbol"] for c in changes["resources"]] == ["~"]

        # Prod is protected: skipping steps is refused, auto-approve is ignored.
        r = await client.call_tool("infra-manager", {"operation": "deploy", "env": "prod", "skip_tests": True})
        assert r.is_error and r.structured_content["error"]["field"] == "skip_tests", text(r)
        r = await client.call_tool("director", {"request": "deploy to production"})
        assert not r.is_error, text(r)
        pending = r.structured_content
        assert pending["status"] == "awaiting_confirmation" and pending["steps_required"] == 2
        banner = pending["banner"]
        for fact in ["PRODUCTION", "+7", "~0", "-0", ACCOUNT, "us-east-1"]:
            assert fact in banner, (fact, banner)
        # "no" cancels: nothing in prod.
        r = await client.call_tool("confirm", {"operation_id": pending["operation_id"], "response": "no"})
        assert not r.is_error and r.structured_content["status"] == "cancelled", text(r)
        assert prod_bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}
        assert not (state_dir(project) / "deployments/prod/registry.json").exists()

        # Two "yes" answers apply it; auto_approve is ignored for prod.
        r = await client.call_tool("infra-manager", {"operation": "deploy", "env": "prod", "auto_approve": True})
        pending = r.structured_content
        assert pending["status"] == "awaiting_confirmation", text(r)
        r = await client.call_tool("confirm", {"operation_id": pending["operation_id"], "response": "yes"})
        second = r.structured_content
        assert second["status"] == "awaiting_confirmation" and "FINAL CONFIRMATION" in second["banner"], text(r)
        assert prod_bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}, "one yes is not enough"
        # The final banner has its own id: a repeated first answer does not answer it.
        assert second["operation_id"] != pending["operation_id"]
        r = await client.call_tool("confirm", {"operation_id": pending["operation_id"], "response": "yes"})
        assert r.is_error and second["operation_id"] in text(r), text(r)
        assert prod_bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}, "a repeated first yes is not a second"
        r = await client.call_tool("confirm", {"operation_id": second["operation_id"], "response": "YES "})
        assert not r.is_error, text(r)
        assert r.structured_content["applied"]["add"] == 7
        assert prod_bucket in {b["Name"] for b in s3.list_buckets()["Buckets"]}
        # The approval was single-use.
        r = await client.call_tool("confirm", {"operation_id": second["operation_id"], "response": "yes"})
        assert r.is_error and "already confirmed" in text(r)

        r = await client.call_tool("director", {"request": "show me deployed resources in production"})
        assert not r.is_error, text(r)
        shown = r.structured_content
        assert shown["source"] == "registry" and shown["count"] == 7
        assert any(x["arn"] == f"arn:aws:s3:::{prod_bucket}" for x in shown["resources"])

    # Every deploy step is audited with the AWS caller.
    trail = [json.loads(line) for line in (state_dir(project) / "audit-trail.jsonl").read_text().splitlines()]
    deploys = [e for e in trail if e["operation"] == "deploy"]
    assert {e["outcome"] for e in deploys} >= {"requested", "approved", "cancelled", "confirmed", "executed", "succeeded"}
    assert all(e.get("aws_caller") for e in deploys if e["outcome"] in ("executed", "succeeded"))

    # A profile in another account than account_id is refused before anything runs.
    path = state_dir(project) / "devops.json"
    config = json.loads(path.read_text())
    config["handlers"]["hosting"]["aws"]["account_id"] = "999999999999"
    path.write_text(json.dumps(config))
    plans = sorted((state_dir(project) / "plans/test").glob("*.tfplan"))
    proc = run_cli(project, "infra", "deploy", "--env", "test", "--auto-approve", env=tf_env(), check=False, timeout=300)
    assert proc.returncode == 1 and "999999999999" in proc.stdout + proc.stderr and ACCOUNT in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert sorted((state_dir(project) / "plans/test").glob("*.tfplan")) == plans, "nothing ran"


async def test_permission_failure_is_debugged_fixed_through_the_gate_and_learned(project, tmp_path_factory):
    require_terraform()
    # moto enforces IAM after its first 3 requests: an admin is made with those.
    with start_moto({"INITIAL_NO_AUTH_ACTION_COUNT": "3"}) as endpoint:
        iam = boto(endpoint, "iam")
        iam.create_user(UserName="admin")
        allow_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        iam.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=json.dumps(allow_all))
        admin_key = iam.create_access_key(UserName="admin")["AccessKey"]
        admin = boto(endpoint, "iam", admin_key["AccessKeyId"], admin_key["SecretAccessKey"])
        admin.create_user(UserName="deployer")
        deployer_key = admin.create_access_key(UserName="deployer")["AccessKey"]
        # Everything but s3:CreateBucket.
        almost = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotAction": ["s3:CreateBucket"], "Resource": "*"}]}
        admin.put_user_policy(UserName="deployer", PolicyName="deploy", PolicyDocument=json.dumps(almost))
        creds = tmp_path_factory.mktemp("aws") / "credentials"
        creds.write_text(
            f"[e2e-admin]\naws_access_key_id = {admin_key['AccessKeyId']}\naws_secret_access_key = {admin_key['SecretAccessKey']}\n\n"
            f"[e2e-deployer]\naws_access_key_id = {deployer_key['AccessKeyId']}\naws_secret_access_key = {deployer_key['SecretAccessKey']}\n"
        )
        name = new_project(project, endpoint, profiles={"discover": "e2e-admin", "test": "e2e-deployer", "prod": "e2e-prod"}, account_id=ACCOUNT)
        boto(endpoint, "s3", admin_key["AccessKeyId"], admin_key["SecretAccessKey"]).create_bucket(Bucket=f"{name}-terraform-state")
        env = tf_env({"AWS_SHARED_CREDENTIALS_FILE": str(creds), "AWS_CONFIG_FILE": str(creds.parent / "config")})

        async with connect(project, "legacy", extra_env=env) as client:
            r = await client.call_tool("infra-manager", {"operation": "deploy", "env": "test", "auto_approve": True})
            assert r.is_error, text(r)
            report = r.structured_content["error"]["report"]
            assert report["failed_step"] == "apply"
            diagnosis = report["debug"]["diagnosis"]
            assert diagnosis["category"] == "permission"
            assert diagnosis["extracted"]["action"] == "s3:CreateBucket"
            fix = report["debug"]["fix"]
            assert fix["principal"] == f"arn:aws:iam::{ACCOUNT}:user/deployer"
            assert fix["document"]["Statement"][0]["Action"] == ["s3:CreateBucket"]
            # Least privilege: the bucket Terraform was creating, not "*".
            assert fix["document"]["Statement"][0]["Resource"] == [f"arn:aws:s3:::{name}-core-test-uploads"]
            # The fix waits for a human, even with auto_approve on the deploy.
            pending = report["fix_pending"]
            assert pending["status"] == "awaiting_confirmation" and pending["operation"] == "permission-fix"
            assert "e2e-admin" in pending["banner"]
            assert admin.list_user_policies(UserName="deployer")["PolicyNames"] == ["deploy"], "nothing attached before the yes"

            r = await client.call_tool("confirm", {"operation_id": pending["operation_id"], "response": "yes"})
            assert not r.is_error, text(r)
            assert fix["policy_name"] in admin.list_user_policies(UserName="deployer")["PolicyNames"]

            r = await client.call_tool("director", {"request": "deploy to test environment"})
            # test has auto_approve false: one yes.
            assert r.structured_content["status"] == "awaiting_confirmation", text(r)
            r = await client.call_tool("confirm", {"operation_id": r.structured_content["operation_id"], "response": "yes"})
            assert not r.is_error, text(r)
            assert r.structured_content["applied"]["add"] == 7
            assert r.structured_content["fix_outcomes"] == [["grant-least-privilege", True]]

            # On demand, the same error text finds the same issue and its record.
            r = await client.call_tool("infra-manager", {"operation": "debug", "env": "test", "error": diagnosis["excerpt"]})
            assert r.structured_content["diagnosis"]["signature_id"] == diagnosis["signature_id"], text(r)
            # Without a message, "debug the deployment error" takes the last failed deploy of the environment.
            r = await client.call_tool("director", {"request": "debug the deployment error"})
            assert not r.is_error, text(r)
            assert r.structured_content["routed"]["operation"] == "debug", text(r)
            assert r.structured_content["diagnosis"]["signature_id"] == diagnosis["signature_id"], text(r)

        log = json.loads((state_dir(project) / "deployments/issue-log.json").read_text())
        issue = next(i for i in log["issues"] if i["signature_id"] == diagnosis["signature_id"])
        solution = next(s for s in issue["solutions"] if s["id"] == "grant-least-privilege")
        assert (solution["attempts"], solution["successes"]) == (1, 1)
        assert issue["occurrences"] == 3
        trail = [json.loads(line) for line in (state_dir(project) / "audit-trail.jsonl").read_text().splitlines()]
        fixes = [e for e in trail if e["operation"] == "permission-fix" and e["outcome"] == "succeeded"]
        assert len(fixes) == 1 and fixes[0]["aws_caller"].endswith(":user/admin")
        deploys = [e for e in trail if e["operation"] == "deploy" and e["outcome"] == "executed"]
        assert deploys and all(e["aws_caller"].endswith(":user/deployer") for e in deploys)


async def test_one_deploy_per_environment(configured):
    """While another process holds the environment's deploy lock, a second deploy says so and runs nothing."""
    import fcntl

    locks = state_dir(configured) / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    with open(locks / "deploy-test.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        async with connect(configured, "legacy") as client:
            r = await client.call_tool("infra-manager", {"operation": "deploy", "env": "test"})
            assert r.is_error and "a deploy to test is in progress" in text(r), text(r)
            # Another environment is not blocked by it (it gets as far as its credentials).
            r = await client.call_tool("infra-manager", {"operation": "deploy", "env": "prod"})
            assert "in progress" not in text(r), text(r)
    assert not (state_dir(configured) / "plans").exists() and not (state_dir(configured) / "test-reports").exists()
