from collections.abc import Iterable
from typing import Any

from fraudguard.features.store import StateStore

class EntityPlan:
    def __init__(
        self,
        position: int,
        prefix: str,
        windowed: bool,
        counterparts: tuple[int, ...],
        amounts: bool,
        first_seen: bool,
        columns: tuple[str, ...],
        fresh: dict[str, Any],
    ) -> None: ...

class EventPlan:
    def __init__(self, entities: Iterable[EntityPlan], missing: dict[str, Any]) -> None: ...
    def features(
        self, store: StateStore, hashed: list[str | None], ts: int, fen: int
    ) -> dict[str, Any]: ...
