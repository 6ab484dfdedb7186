"""schemathesis against the service's own OpenAPI document, over real HTTP: whatever the
schema allows a client to send, the answer is never a 5xx and conforms to the schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from fraudguard.api import create_app
from tests.api.conftest import KEYS, running, service_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory, model_root: Path) -> Iterator[Any]:
    app = create_app(
        service_settings(tmp_path_factory.mktemp("contract"), model_root, rate_limit="")
    )
    with running(app) as base_url:
        yield schemathesis.openapi.from_url(f"{base_url}/openapi.json")


def test_every_operation_conforms(api_schema: Any) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/v1/score", "/v1/score/batch", "/metrics"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=40,  # x 6 operations: a few hundred requests, well under a minute
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def conforms(case: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {KEYS['admin']}"}
            response = case.call()
            assert response.status_code < 500, (case.method, case.path, response.text)
            case.validate_response(
                response,
                checks=[
                    status_code_conformance,
                    content_type_conformance,
                    response_schema_conformance,
                ],
            )

        conforms()
