"""The first hour with `make run`: a real `fraudguard serve` that trains its first model,
says where it is, prints no warning, and stops with exit code 0 on SIGTERM or Ctrl-C."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from fraudguard.files import write_events
from fraudguard.simulate import SimulationConfig, simulate
from tests.api.conftest import free_port, server_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: What the first start logs, in this order, each "(N s so far)".
STEPS = [
    "first start: reading",
    "first start: validating",
    "first start: computing features",
    "first start: training",
    "first start: calibrating",
    "first start: evaluating",
    "first start: saving the model and compiling its trees",
]

#: Seconds a start or a stop may take before the test calls it hung.
_HANG_GUARD_S = 1800


def _start(env: dict[str, str], out: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [str(Path(sys.executable).with_name("fraudguard")), "serve", "--port", str(port)]
    process = subprocess.Popen(  # noqa: S603
        command,
        env=env,
        stdout=(out / "stdout").open("wb"),
        stderr=(out / "stderr").open("wb"),
    )
    base = f"http://127.0.0.1:{port}"
    # A guard against a hang, not a speed check: a first start trains a model, which takes
    # minutes on a loaded 2-core machine.
    deadline = time.monotonic() + _HANG_GUARD_S
    while True:
        assert process.poll() is None, (out / "stderr").read_text()
        assert time.monotonic() < deadline, "fraudguard serve did not become ready"
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)


def _stop(process: subprocess.Popen[bytes], signum: int) -> int:
    process.send_signal(signum)
    try:
        return process.wait(timeout=_HANG_GUARD_S)
    finally:
        if process.poll() is None:
            process.kill()


def test_a_first_start_shows_each_step_prints_no_warning_and_stops_with_0(
    tmp_path: Path,
) -> None:
    sample = write_events(
        simulate(SimulationConfig(events=12_000, seed=11)), tmp_path / "sample.parquet"
    )
    env = server_env(tmp_path / "home", tmp_path / "home" / "models")  # no model yet
    env.update(
        FRAUDGUARD_BOOTSTRAP_MODEL="true",
        FRAUDGUARD_BOOTSTRAP_DATA=str(sample),
        FRAUDGUARD_LOG_LEVEL="INFO",
    )
    process, _ = _start(env, tmp_path)
    assert _stop(process, signal.SIGTERM) == 0

    stdout = (tmp_path / "stdout").read_text()
    stderr = (tmp_path / "stderr").read_text()
    assert stdout == ""
    assert "treelite" not in stderr.lower()
    logged = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    others = [line for line in stderr.splitlines() if not line.startswith("{")]
    # uvicorn's own lines ("INFO:     Started server process ...") and nothing else
    assert all(line.startswith("INFO:") for line in others), others
    assert [r for r in logged if r["level"] != "INFO"] == []
    messages = [r["message"] for r in logged if r["logger"] == "fraudguard.models.bootstrap"]
    progress = [m for m in messages if "s so far)" in m]
    assert len(progress) == len(STEPS), messages
    for message, step in zip(progress, STEPS, strict=True):
        assert message.startswith(step), (message, step)
    assert "trained and promoted in" in messages[-1]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stopping_the_service_is_a_clean_exit(
    tmp_path: Path,
    model_root: Path,
    signum: int,
) -> None:
    env = server_env(tmp_path, model_root)
    env["FRAUDGUARD_LOG_LEVEL"] = "INFO"
    process, base = _start(env, tmp_path)
    assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
    assert _stop(process, signum) == 0
    assert "Application shutdown complete." in (tmp_path / "stderr").read_text()
