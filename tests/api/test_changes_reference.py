"""A model fitted on other reference data than the deployment loads, under change control
over real HTTP: the proposal is taken with a warning the API and the console's version page
show; approval is refused with the workers' reason (409 ``reference_mismatch``) unless the
deployment allows mismatches, when the warning says so and the model goes live."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from fraudguard.api import create_app
from fraudguard.models import ModelRegistry
from fraudguard.reference import ReferencePaths
from tests.api.conftest import auth, running, service_settings
from tests.changes.conftest import registry_with_copy
from tests.console.pages import login, section, visible

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SECOND = "hgb-2099-02-01-1"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory, model_root: Path) -> Path:
    """The test registry (models fitted on the shipped tables) with a second version: the
    same artifact under another name."""
    root = tmp_path_factory.mktemp("mismatch") / "registry"
    return registry_with_copy(model_root, root, SECOND).root


@pytest.fixture(scope="module")
def intel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This deployment's IP intelligence: the shipped table and one more range."""
    path = tmp_path_factory.mktemp("intel") / "ip_intel.csv"
    shipped = ReferencePaths().ip_intel.read_text(encoding="utf-8")
    path.write_text(shipped + "198.18.7.0/24,tor,test-feed\n", encoding="utf-8")
    return path


@contextmanager
def _service(tmp_path: Path, registry: Path, intel: Path, **changes: Any) -> Iterator[httpx.Client]:
    """A service overriding the IP intelligence table, over real HTTP."""
    settings = service_settings(
        tmp_path, registry, ip_intel_path=intel, reload_interval_s=0, rate_limit="", **changes
    )
    with running(create_app(settings)) as base, httpx.Client(base_url=base, timeout=120) as client:
        yield client


def _propose(client: httpx.Client, version: str) -> dict[str, Any]:
    response = client.post(
        "/v1/models",
        json={"model_version": version, "rationale": "retrained on the November traffic"},
        headers=auth("analyst"),
    )
    assert response.status_code == 201, response.text
    proposed: dict[str, Any] = response.json()
    return proposed


def _decide(client: httpx.Client, number: int, action: str, revision: int) -> httpx.Response:
    return client.post(
        f"/v1/models/{number}/{action}",
        json={"revision": revision, "comment": "read the evidence"},
        headers=auth("approver"),
    )


def test_a_mismatched_model_is_proposed_with_a_warning_and_its_approval_refused(
    tmp_path: Path, registry: Path, intel: Path
) -> None:
    first = ModelRegistry(registry).promoted()
    assert first is not None
    with _service(tmp_path, registry, intel) as client:
        ready = client.get("/readyz").json()  # the promoted model is refused at start
        proposed = _propose(client, SECOND)
        [warning] = proposed["warnings"]
        assert SECOND in warning
        assert "tables that differ: ip_intel" in warning
        assert "retrain" in warning
        assert "FRAUDGUARD_ALLOW_REFERENCE_MISMATCH=true" in warning
        number = proposed["number"]
        shown = client.get(f"/v1/models/{number}", headers=auth("approver")).json()
        assert shown["warnings"] == [warning]
        assert shown["history"][0]["details"]["reference_mismatch"]  # on the record

        refused = _decide(client, number, "approve", proposed["revision"])
        assert refused.status_code == 409
        body = refused.json()
        assert body["error"] == "reference_mismatch"
        assert body["problems"][0]["field"] == "model_version"
        # the reason a worker gives for not serving it, as /readyz gave it for the first
        assert ready["reason"].replace(first.version, SECOND) in body["message"]
        after = client.get(f"/v1/models/{number}", headers=auth("approver")).json()
        assert after["state"] == "proposed"
        assert after["revision"] == proposed["revision"]

        login(client, "approver")  # type: ignore[arg-type] # an httpx client as well
        page = client.get(f"/console/changes/models/{number}")
        assert page.status_code == 200
        box = visible(section(page.text, 'class="card version-warnings"'))
        assert "Read before deciding" in box
        assert "tables that differ: ip_intel" in box
        assert page.text.index("version-warnings") < page.text.index('id="approve"')


def test_a_deployment_that_allows_mismatches_approves_with_the_warning_shown(
    tmp_path: Path, registry: Path, intel: Path
) -> None:
    with _service(tmp_path, registry, intel, allow_reference_mismatch=True) as client:
        proposed = _propose(client, SECOND)
        [warning] = proposed["warnings"]
        assert "FRAUDGUARD_ALLOW_REFERENCE_MISMATCH=true here" in warning
        approved = _decide(client, proposed["number"], "approve", proposed["revision"])
        assert approved.status_code == 200, approved.text
        active = _decide(client, proposed["number"], "activate", approved.json()["revision"])
        assert active.status_code == 200, active.text
        assert active.json()["state"] == "active"
        assert active.json()["warnings"] == [warning]
        ready = client.get("/readyz").json()
        assert ready["model_version"] == SECOND
        assert "served anyway" in ready["warnings"][0]
