from __future__ import annotations

import pytest

from fraudguard.reference import ReferenceData, load_reference


@pytest.fixture(scope="session")
def reference() -> ReferenceData:
    """The shipped reference data, loaded once."""
    return load_reference()
