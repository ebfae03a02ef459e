"""Audits of what is deployed, with the real terraform against moto and a real MCP client and the CLI:
a deployed stack is changed behind Terraform's back with boto3 (a bucket made public, a security group
opened to the world on 22, a policy allowing everything, a required tag removed, log retention removed);
the security and compliance audits find each change, name the resource and propose the fix; after the
fixes a second audit reports them fixed. The cost audit reads the spend seeded into Cost Explorer, to the
cent, and says what the backend does not offer. An environment with nothing deployed says so."""

import json
import os
import subprocess
import urllib.request

import pytest

from conftest import binary, connect, require_terraform, run_cli
from test_deploy import ACCOUNT, boto, engineer_design, state_dir, text, tf_env

pytestmark = pytest.mark.anyio

DESIGN = """# Uploads and a worker

```json faber-design
{"version": 1, "feature": "uploads", "components": [
  {"type": "s3_bucket", "name": "uploads"},
  {"type": "lambda_function", "name": "worker"}
]}
```
"""


def deployed_project(project, moto):
    run_cli(project, "config", "init", "--endpoint-url", moto)
    path = state_dir(project) / "devops.json"
    config = json.loads(path.read_text())
    config["handlers"]["hosting"]["aws"]["account_id"] = ACCOUNT
    path.write_text(json.dumps(config, indent=2))
    engineer_design(project, "uploads.md", DESIGN)
    name = config["project"]["name"]
    boto(moto, "s3").create_bucket(Bucket=f"{name}-terraform-state")
    return name


def by_rule(report):
    return {(f["id"], f["resource"]) for f in report["findings"]}


def audit_file(path):
    return json.loads(open(path).read())


async def test_security_and_compliance_audit_find_changes_behind_terraforms_back(project, moto):
    require_terraform()
    name = deployed_project(project, moto)
    bucket, function = f"{name}-core-test-uploads", f"{name}-core-test-worker"
    s3, ec2, iam, logs = boto(moto, "s3"), boto(moto, "ec2"), boto(moto, "iam"), boto(moto, "logs")

    async with connect(project, "auto", extra_env=tf_env()) as client:
        r = await client.call_tool("infra-manager", {"operation": "deploy", "env": "test", "auto_approve": True})
        assert not r.is_error and r.structured_content["status"] == "ok", text(r)

        # A first audit of the stack as deployed: no drift, and live and state agree.
        r = await client.call_tool("ops-manager", {"operation": "audit", "env": "test", "focus": "security"})
        assert not r.is_error, text(r)
        first = r.structured_content
        assert first["resources"] > 5 and first["drift"] == [], first["drift"]
        assert first["agreement"]["both"] > 0 and first["agreement"]["live_only"] == 0, first["agreement"]
        assert first["aws_calls"] > 0 and first["report_path"].endswith("-audit.json")
        assert "/logs/infrastructure/audits/test/" in first["report_path"]

        # Two audits at once (an agent asking for cost and security together): both run; the second waits its turn.
        both = [subprocess.Popen([binary(), "--project-dir", str(project), "--json", "ops", "audit", "--env", "test", "--focus", focus],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ, **tf_env()))
                for focus in ("security", "compliance")]
        for proc in both:
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, out + err
            assert json.loads(out)["resources"] == first["resources"]

        # The audit reports its progress while it runs.
        steps = []

        async def progress(done, total, message):
            steps.append(message)

        r = await client.call_tool("ops-manager", {"operation": "audit", "env": "test", "focus": "compliance"}, progress_callback=progress)
        assert not r.is_error, text(r)
        assert any("live configuration" in m for m in steps) and any("previous audit" in m for m in steps), steps

        # Behind Terraform's back.
        s3.delete_public_access_block(Bucket=bucket)
        public = {"Version": "2012-10-17", "Statement": [{"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                                           "Resource": f"arn:aws:s3:::{bucket}/*"}]}
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(public))
        vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        group = ec2.create_security_group(GroupName=f"{name}-test-admin", Description="admin", VpcId=vpc,
                                          TagSpecifications=[{"ResourceType": "security-group",
                                                              "Tags": [{"Key": "Project", "Value": name}, {"Key": "Environment", "Value": "test"}]}])["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                                                            "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        role = iam.list_roles()["Roles"]
        role = next(x["RoleName"] for x in role if function in x["RoleName"] or "worker" in x["RoleName"])
        everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        iam.put_role_policy(RoleName=role, PolicyName="break-glass", PolicyDocument=json.dumps(everything))
        tags = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [t for t in tags if t["Key"] != "Environment"]})
        logs.delete_retention_policy(logGroupName=f"/aws/lambda/{function}")

        r = await client.call_tool("ops-manager", {"operation": "audit", "env": "test", "focus": "security"})
        assert not r.is_error, text(r)
        second = r.structured_content
        found = by_rule(audit_file(second["report_path"]))
        assert ("FC_S3_002", "aws_s3_bucket.uploads") in found, found
        assert ("FC_S3_007", "aws_s3_bucket_policy.uploads") in found, found
        assert ("FC_NET_001", f"aws_security_group.live_{group}") in found, found
        assert any(rule in ("FC_IAM_001", "FC_IAM_002") and "break-glass" in res for rule, res in found), found
        assert ("FC_LOG_001", "aws_cloudwatch_log_group.worker") in found, found
        drifted = {(d["resource"], d["attribute"]) for d in second["drift"]}
        assert ("aws_s3_bucket.uploads", "tags.Environment") in drifted, drifted
        assert ("aws_cloudwatch_log_group.worker", "retention_in_days") in drifted, drifted
        assert ("aws_s3_bucket_public_access_block.uploads", "(resource)") in drifted, drifted
        every = audit_file(second["report_path"])["findings"]
        ssh = next(f for f in every if f["id"] == "FC_NET_001")
        assert ssh["arn"].endswith(group) and "CIS 5.2" in ssh["controls"] and "22" in ssh["evidence"], ssh
        pab = next(f for f in every if f["id"] == "FC_S3_002")
        assert pab["source"] == "live" and "FSBP S3.8" in pab["controls"] and pab["fix"], pab
        assert second["since_last"]["new"] >= 5 and second["scores"]["security"] < first["scores"]["security"], second["scores"]
        assert "FC_NET_001" in text(r) or "FC_S3_002" in text(r), text(r)

    # Compliance through the CLI: the removed tag and the retention.
    proc = run_cli(project, "--json", "ops", "audit", "--env", "test", "--focus", "compliance", env=tf_env(), timeout=300)
    compliance = json.loads(proc.stdout)
    found = by_rule(audit_file(compliance["report_path"]))
    assert ("FC_TAG_001", "aws_s3_bucket.uploads") in found, found
    assert ("FC_LOG_001", "aws_cloudwatch_log_group.worker") in found, found
    assert not any(f["id"] == "FC_NET_001" for f in audit_file(compliance["report_path"])["findings"]), "open ports are security, not compliance"
    tag = next(f for f in audit_file(compliance["report_path"])["findings"] if f["id"] == "FC_TAG_001")
    assert "Environment" in tag["evidence"], tag

    # The fixes: a deploy puts back what Terraform manages; what it does not manage goes by hand.
    async with connect(project, "auto", extra_env=tf_env()) as client:
        r = await client.call_tool("infra-manager", {"operation": "deploy", "env": "test", "auto_approve": True})
        assert not r.is_error and r.structured_content["status"] in ("ok", "awaiting_confirmation"), text(r)
        if r.structured_content["status"] == "awaiting_confirmation":
            r = await client.call_tool("confirm", {"operation_id": r.structured_content["operation_id"], "response": "yes"})
            assert not r.is_error, text(r)
        ec2.delete_security_group(GroupId=group)
        iam.delete_role_policy(RoleName=role, PolicyName="break-glass")
        r = await client.call_tool("ops-manager", {"operation": "audit", "env": "test", "focus": "security"})
        assert not r.is_error, text(r)
        third = r.structured_content
        fixed = " ".join(third["since_last"]["fixed"])
        for rule in ("FC_S3_002", "FC_S3_007", "FC_NET_001", "FC_LOG_001", "FC_DRIFT_001"):
            assert rule in fixed, (rule, third["since_last"])
        assert third["drift"] == [], third["drift"]
        assert third["scores"]["security"] >= first["scores"]["security"], (first["scores"], third["scores"])

    trail = (state_dir(project) / "audit-trail.jsonl").read_text()
    assert "break-glass" not in trail


def seed_cost(moto, results):
    body = json.dumps({"results": results}).encode()
    req = urllib.request.Request(f"{moto}/moto-api/static/ce/cost-and-usage-results", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req).read()


async def test_cost_audit_reads_the_seeded_spend_to_the_cent(project, moto):
    run_cli(project, "config", "init", "--endpoint-url", moto)
    # Nothing deployed: the audit says so plainly, and still reads the spend.
    months = {"ResultsByTime": [
        {"TimePeriod": {"Start": "2026-11-01", "End": "2026-12-01"}, "Estimated": False, "Total": {},
         "Groups": [{"Keys": ["AWS Lambda"], "Metrics": {"UnblendedCost": {"Amount": "12.345", "Unit": "USD"}}},
                    {"Keys": ["Amazon Simple Storage Service"], "Metrics": {"UnblendedCost": {"Amount": "30.00", "Unit": "USD"}}},
                    {"Keys": ["AmazonCloudWatch"], "Metrics": {"UnblendedCost": {"Amount": "2.50", "Unit": "USD"}}}]},
        {"TimePeriod": {"Start": "2026-12-01", "End": "2026-12-08"}, "Estimated": True, "Total": {},
         "Groups": [{"Keys": ["AWS Lambda"], "Metrics": {"UnblendedCost": {"Amount": "4.004", "Unit": "USD"}}},
                    {"Keys": ["Amazon Simple Storage Service"], "Metrics": {"UnblendedCost": {"Amount": "8.00", "Unit": "USD"}}}]},
    ]}
    seed_cost(moto, [months])
    async with connect(project, "auto", extra_env=tf_env()) as client:
        r = await client.call_tool("ops-manager", {"operation": "audit", "env": "test", "focus": "cost"})
        assert not r.is_error, text(r)
        report = r.structured_content
        cost = report["cost"]
        assert report["resources"] == 0 and any("nothing is deployed in test" in n for n in report["notes"]), report["notes"]
        months_by_start = {m["start"]: m for m in cost["months"]}
        assert months_by_start["2026-11-01"]["total"] == 44.85, months_by_start
        assert [d["service"] for d in cost["top_drivers"]] == ["Amazon Simple Storage Service", "AWS Lambda", "AmazonCloudWatch"], cost["top_drivers"]
        assert cost["top_drivers"][1]["amount"] == 12.35 and cost["last_month"] == 44.85, cost
        assert cost["forecast_this_month"] is None and any("forecast" in n for n in cost["notes"]), cost["notes"]
        assert "Cost:" in text(r) and "Top drivers" in text(r), text(r)
        assert (project / "logs/infrastructure/audits/test").is_dir()
        r = await client.call_tool("ops-manager", {"operation": "audit", "env": "test", "focus": "security"})
        assert not r.is_error and r.structured_content["findings_total"] == 0, text(r)
        assert "nothing is deployed in test" in text(r), text(r)

