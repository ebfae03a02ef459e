"""Shared fixtures: the built binary, a fresh project directory, and a real MCP
client (the Python `mcp` SDK) connected to `faber-cloud serve` over stdio, in
both the legacy (initialize handshake) and current (server/discover) modes."""

import json
import os
import pathlib
import subprocess
import tempfile
from contextlib import asynccontextmanager, contextmanager

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def binary() -> str:
    path = os.environ.get("FABER_CLOUD_BIN") or str(ROOT / "target" / "debug" / "faber-cloud")
    if not os.access(path, os.X_OK):
        pytest.fail(f"faber-cloud binary not found at {path}: run `cargo build` (or scripts/test) first, or set FABER_CLOUD_BIN")
    return path


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def project(tmp_path):
    """A fresh project directory with no configuration yet."""
    return tmp_path


@pytest.fixture
def configured(project):
    """A project directory with the default devops.json."""
    run_cli(project, "config", "init", "--provider", "aws", "--iac", "terraform")
    return project


def run_cli(project, *args, env=None, check=True, timeout=60):
    full_env = dict(os.environ, **(env or {}))
    proc = subprocess.run([binary(), "--project-dir", str(project), *args], capture_output=True, text=True, env=full_env, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"faber-cloud {' '.join(args)} exited {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}")
    return proc


def confirm_cli(project, operation_id, env=None):
    """Answers "yes" to every step of a pending operation through the CLI: each
    step has its own id, which the previous answer returns."""
    while True:
        proc = run_cli(project, "--json", "confirm", operation_id, "yes", env=env, check=False)
        body = json.loads(proc.stdout)
        if body.get("status") != "awaiting_confirmation":
            assert proc.returncode == 0, proc.stdout + proc.stderr
            return proc
        operation_id = body["operation_id"]


@asynccontextmanager
async def connect(project, mode, selftest=False, extra_env=None):
    """A real MCP client session with `faber-cloud serve`."""
    from mcp.client.client import Client
    from mcp.client.stdio import StdioServerParameters

    env = {"FABER_CLOUD_LOG": "warn", "PATH": os.environ.get("PATH", "")}
    if selftest:
        env["FABER_CLOUD_SELFTEST"] = "1"
    env.update(extra_env or {})
    params = StdioServerParameters(command=binary(), args=["serve", "--project-dir", str(project)], env=env)
    async with Client(params, mode=mode) as client:
        yield client


MODES = ["legacy", "auto"]


@contextmanager
def start_moto(extra_env=None):
    """A real local AWS-compatible server (moto) on a free port; yields its URL."""
    import shutil
    import socket
    import sys
    import time
    import urllib.request

    server = shutil.which("moto_server", path=os.path.dirname(sys.executable)) or shutil.which("moto_server")
    if not server:
        pytest.fail("moto_server not found: pip install 'moto[server]' (scripts/test installs it into .cache/venv)")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    # AWS managed policies (AWSLambdaBasicExecutionRole, …) exist in moto only when loaded.
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true", **(extra_env or {}))
    proc = subprocess.Popen([server, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
            break
        except Exception:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"moto_server did not start on {endpoint}")
            time.sleep(0.2)
    try:
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def moto():
    """moto for the test session, without IAM enforcement."""
    with start_moto() as endpoint:
        yield endpoint


def require_terraform():
    """Fails (never skips) when the real terraform or its provider mirror is missing."""
    import shutil

    if not shutil.which("terraform"):
        pytest.fail("terraform is not on PATH: install Terraform 1.10+ (this test runs the real binary)")
    if not os.path.isfile(os.environ.get("TF_CLI_CONFIG_FILE", "")):
        pytest.fail("TF_CLI_CONFIG_FILE does not name a file: run through scripts/test, which points terraform at the provider mirror")


# The longest tests (mostly waiting on terraform and moto) start first, each on its own
# worker (`-n 3 --dist load --maxschedchunk 1` in scripts/test); the short ones fill in.
# xdist hands each worker two tests to begin with, so a short test follows each long one.
LONGEST_FIRST = [
    "test_deploy_through_the_gate_against_moto",
    "test_data_loss_is_always_confirmed_and_teardown_removes_everything",
    "test_a_second_request_extends_the_stack_with_its_parts_wired",
    "test_permission_failure_is_debugged_fixed_through_the_gate_and_learned",
    "test_preview_changes_against_moto",
    "test_design_to_tested_terraform",
    "test_runtime_operations_on_moto",
    "test_generated_lambdas_roll_back_through_their_live_alias",
    "test_a_missing_state_bucket_is_offered_through_the_gate",
]


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    long = sorted((i for i in items if i.originalname in rank), key=lambda i: rank[i.originalname])
    short = [i for i in items if i.originalname not in rank]
    ordered = []
    for item in long:
        ordered.append(item)
        if short:
            ordered.append(short.pop(0))
    items[:] = ordered + short
