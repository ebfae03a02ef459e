"""The plugin as Claude Code sees it: `claude plugin validate --strict` and
`claude --plugin-dir . mcp list` (npm @anthropic-ai/claude-code, run with a
throwaway HOME so no user settings leak in)."""

import json
import os
import pathlib
import subprocess

import pytest

from conftest import ROOT, binary


def claude() -> str:
    path = os.environ.get("FABER_CLAUDE_BIN") or str(ROOT / "tests" / "node" / "node_modules" / ".bin" / "claude")
    if not os.access(path, os.X_OK):
        pytest.fail(f"claude CLI not found at {path}: run `npm install --prefix tests/node` (scripts/test does) or set FABER_CLAUDE_BIN")
    return path


def run_claude(args, tmp_path, cwd, extra_env=None):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE")}
    env.update({"HOME": str(home), "FABER_CLOUD_BIN": binary(), "DISABLE_TELEMETRY": "1", "DISABLE_AUTOUPDATER": "1"})
    env.update(extra_env or {})
    return subprocess.run([claude(), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=180)


def test_plugin_validates_strictly(tmp_path):
    proc = run_claude(["plugin", "validate", "--strict", str(ROOT)], tmp_path, cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "Validation passed" in out, out


def test_mcp_list_reports_the_server_connected(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    proc = run_claude(["--plugin-dir", str(ROOT), "mcp", "list"], tmp_path, cwd=project)
    out = proc.stdout + proc.stderr
    line = next((l for l in out.splitlines() if "fractary-faber-cloud:faber-cloud" in l), None)
    assert line, f"plugin server not listed:\n{out}"
    assert "Connected" in line, line


def _frontmatter(path: pathlib.Path) -> str:
    text = path.read_text()
    assert text.startswith("---\n"), path
    return text.split("---\n", 2)[1]


def test_commands_quote_hints_and_never_preallow_confirm():
    for md in sorted((ROOT / "commands").glob("*.md")) + sorted((ROOT / "agents").glob("*.md")):
        fm = _frontmatter(md)
        for line in fm.splitlines():
            if line.startswith("argument-hint:"):
                value = line.split(":", 1)[1].strip()
                assert value[:1] in "\"'", f"{md.name}: argument-hint must be quoted: {line}"
            if line.split(":", 1)[0] in ("allowed-tools", "tools"):
                assert "confirm" not in line, f"{md.name} pre-allows confirm: {line}"
    for skill in (ROOT / "skills").iterdir():
        assert (skill / "SKILL.md").exists(), skill
    manifest = json.loads((ROOT / "plugin.json").read_text())
    assert manifest["name"] == "fractary-faber-cloud"
    assert (ROOT / ".claude-plugin" / "plugin.json").resolve() == (ROOT / "plugin.json").resolve()
