from collections.abc import Sequence
from types import ModuleType
from typing import Any

from fraudguard.features.store import Observation, StoreSize, WindowStats

def _bind(contract: ModuleType) -> None: ...

class InMemoryStateStore:
    # White-box views for tests: key -> first-seen record / event log (or a lone event).
    _seen: Any
    _series: Any
    def __init__(
        self,
        *,
        windows_s: Sequence[int] | None = None,
        first_seen_ttl_s: int | None = None,
        max_keys: int | None = None,
    ) -> None: ...
    @property
    def windows_s(self) -> tuple[int, ...]: ...
    @property
    def first_seen_ttl_s(self) -> int: ...
    def __len__(self) -> int: ...
    def size(self) -> StoreSize: ...
    def observe(self, observations: Sequence[Observation]) -> list[WindowStats]: ...
