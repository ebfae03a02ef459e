"""Issue 3's walk through a real MCP client: "design infrastructure for an API
service with user uploads" → architect → engineer → validate-config → test,
with the real terraform; and bad input that must write nothing."""

import json
import os
import shutil

import pytest

from conftest import connect

pytestmark = pytest.mark.anyio


def structured(r):
    return r.structured_content


def text(r):
    return "\n".join(c.text for c in r.content if getattr(c, "type", "") == "text")


def tree(path):
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())


def require_terraform():
    if not shutil.which("terraform"):
        pytest.fail("terraform is not on PATH: install Terraform 1.5+ (this test runs the real binary)")
    if not os.environ.get("TF_CLI_CONFIG_FILE"):
        pytest.fail("TF_CLI_CONFIG_FILE is not set: run through scripts/test, which points terraform at the machine's provider mirror")


async def test_design_to_tested_terraform(configured):
    require_terraform()
    root = configured / ".fractary/plugins/faber-cloud"
    async with connect(configured, "auto", extra_env={"TF_CLI_CONFIG_FILE": os.environ["TF_CLI_CONFIG_FILE"]}) as client:
        r = await client.call_tool("director", {"request": "design infrastructure for an API service with user uploads"})
        assert not r.is_error, text(r)
        body = structured(r)
        assert body["routed"]["operation"] == "architect"
        kinds = [c["type"] for c in body["components"]]
        assert kinds == ["s3_bucket", "lambda_function", "http_api"], kinds
        design = root / "designs" / body["design"]
        doc = design.read_text()
        for heading in ["## Requirements as understood", "## Security considerations", "## Monthly cost estimate", "## Open questions", "```json faber-design"]:
            assert heading in doc
        assert body["monthly_cost"] > 0

        r = await client.call_tool("director", {"request": "generate terraform code from the design"})
        assert not r.is_error, text(r)
        tfdir = configured / "infrastructure/terraform"
        assert {"main.tf", "variables.tf", "outputs.tf", "test.tfvars", "prod.tfvars"} <= set(os.listdir(tfdir))

        r = await client.call_tool("infra-manager", {"operation": "validate-config", "env": "test"})
        assert not r.is_error, text(r)
        report = structured(r)
        assert report["valid"] is True and report["terraform"]["status"] == "ran", report["terraform"]
        assert not [d for d in report["diagnostics"] if d["severity"] in ("CRITICAL", "HIGH")]

        r = await client.call_tool("infra-manager", {"operation": "test", "env": "test"})
        assert not r.is_error, text(r)
        report = structured(r)
        assert report["overall_status"] in ("PASS", "WARN"), report["overall_status"]
        assert [t["name"] for t in report["tests"]] == ["validation", "security", "cost", "compliance"]
        saved = json.loads(open(report["report_path"]).read())
        assert saved["overall_status"] == report["overall_status"]
        assert report["report_path"].endswith("-pre-deployment.json")
        assert "/test-reports/test/" in report["report_path"]


async def test_bad_input_writes_nothing(configured):
    root = configured / ".fractary/plugins/faber-cloud"
    async with connect(configured, "legacy") as client:
        before = tree(configured)
        r = await client.call_tool("infra-manager", {"operation": "engineer", "design": "no-such-design"})
        assert r.is_error and structured(r)["error"]["field"] == "design"
        r = await client.call_tool("infra-manager", {"operation": "architect", "feature": "make it nice"})
        assert r.is_error and structured(r)["error"]["field"] == "feature"
        r = await client.call_tool("infra-manager", {"operation": "architect"})
        assert r.is_error and structured(r)["error"]["field"] == "feature"
        assert tree(configured) == before, "a refused request wrote files"

        # A design block with an unknown component.
        r = await client.call_tool("infra-manager", {"operation": "architect", "feature": "user uploads"})
        assert not r.is_error, text(r)
        design = root / "designs" / structured(r)["design"]
        design.write_text(design.read_text().replace('"s3_bucket"', '"mainframe"'))
        before = tree(configured)
        r = await client.call_tool("infra-manager", {"operation": "engineer", "design": design.name})
        assert r.is_error
        err = structured(r)["error"]
        assert err["field"] == "design.components[0].type" and "s3_bucket" in err["accepted"], err
        assert tree(configured) == before

        # Malformed HCL: a diagnostic with file and line.
        tfdir = configured / "infrastructure/terraform"
        tfdir.mkdir(parents=True)
        (tfdir / "main.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = "x"\n\n  tags = {\n}\n')
        r = await client.call_tool("infra-manager", {"operation": "validate-config", "env": "test"})
        assert r.is_error
        report = structured(r)["error"]["report"]
        assert report["valid"] is False
        syntax = [d for d in report["diagnostics"] if d["rule_id"] == "HCL_SYNTAX"]
        assert syntax and syntax[0]["file"] == "main.tf" and syntax[0]["line"] > 0, report["diagnostics"]
