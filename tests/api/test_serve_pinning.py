"""``fraudguard serve --pin-cpu N`` (FRAUDGUARD_PIN_CPU) keeps every thread of a single
worker on CPU N once started; a CPU the process may not use is refused before start-up,
naming the variable."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from fraudguard.api import create_app
from fraudguard.exceptions import ConfigError
from tests.api.conftest import KEYS, serve, server_env, service_settings
from tests.scoring.conftest import event_body

ALLOWED = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


def test_a_cpu_the_process_may_not_use_is_refused(tmp_path: Path, model_root: Path) -> None:
    settings = service_settings(tmp_path, model_root, pin_cpu=4096)
    with pytest.raises(ConfigError) as caught:
        create_app(settings)
    assert [p.location for p in caught.value.problems] == ["FRAUDGUARD_PIN_CPU"]


@pytest.mark.integration
@pytest.mark.skipif(len(ALLOWED) < 2, reason="pinning needs Linux and at least two CPUs")
def test_every_thread_of_a_single_worker_runs_on_one_cpu(tmp_path: Path, model_root: Path) -> None:
    env = server_env(tmp_path, model_root, FRAUDGUARD_PIN_CPU=str(ALLOWED[-1]))
    with serve(env) as (base, process):
        response = httpx.post(
            f"{base}/v1/score",
            json=event_body(transaction_id="pin-1"),
            headers={"Authorization": f"Bearer {KEYS['scorer']}"},
            timeout=10,
        )
        assert response.status_code == 200
        tasks = Path(f"/proc/{process.pid}/task")
        masks = {
            line.split(":", 1)[1].strip()
            for task in tasks.iterdir()
            for line in (task / "status").read_text().splitlines()
            if line.startswith("Cpus_allowed_list:")
        }
    assert masks == {str(ALLOWED[-1])}
