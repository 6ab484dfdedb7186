"""One worker following change control: it runs the rule pack and model the database says
are live, and the pack proposed in shadow beside them.

Each worker polls the slots' pointers (one small query) in its reload loop; a switched
pointer is compiled or loaded off the request path and swapped in with one assignment, so
an order is decided wholly by the old version or wholly by the new. What fails to compile or
load here is logged and not retried until the pointer switches again; the worker keeps what
it ran. At first start the pack and model the service was started with are seeded as the
active versions.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from fraudguard.changes.enums import ChangeKind, Slot
from fraudguard.changes.service import ChangeControl
from fraudguard.changes.store import Pointer
from fraudguard.exceptions import FraudGuardError
from fraudguard.rules import pack_text
from fraudguard.scoring import Scorer, ShadowRun

__all__ = ["Activator", "worker_name"]

_log = logging.getLogger(__name__)


def worker_name() -> str:
    """This process among the workers: host and process id (32 characters at most)."""
    return f"{socket.gethostname()[:20]}-{os.getpid()}"[:32]


class Activator:
    """Keeps a scorer on the live versions and reports its shadow counts."""

    def __init__(self, control: ChangeControl, scorer: Scorer, worker: str | None = None) -> None:
        self.control = control
        self.scorer = scorer
        self.worker = worker or worker_name()
        self._seen: dict[Slot, int] = {}
        self._flushed = -1
        self._refused_shadow: int | None = None
        # The reload loop and an activating request both sync: one at a time, so a request
        # that finds the pointer already taken by the loop waits until it is swapped in.
        self._lock = threading.Lock()

    def start(self) -> None:
        """Seed what the scorer was built with (first start only), then run what is live."""
        self.scorer.managed = True
        path = self.scorer.rules.path
        try:
            self.control.seed(ChangeKind.RULESET, pack_text(path), str(path))
        except FraudGuardError as error:
            _log.error("the rule pack at %s was not seeded: %s", path, error)
        if self.scorer.model_version is not None:
            self.control.seed(ChangeKind.MODEL, self.scorer.model_version, "the model registry")
        self.sync()

    def sync(self) -> bool:
        """Follow the pointers once; returns whether the live rules or model changed."""
        with self._lock:
            pointers = self.control.pointers()
            changed = self._rules(pointers[Slot.RULESET])
            changed = self._model(pointers[Slot.MODEL]) or changed
            self._shadow(pointers[Slot.RULESET_SHADOW])
            self.flush()
            return changed

    def _fresh(self, slot: Slot, pointer: Pointer) -> bool:
        if self._seen.get(slot) == pointer.serial:
            return False
        self._seen[slot] = pointer.serial
        return pointer.version_id is not None

    def _rules(self, pointer: Pointer) -> bool:
        if not self._fresh(Slot.RULESET, pointer):
            return False
        row = self.control.row(pointer.version_id or 0)
        if row is None:
            return False
        if row.content_hash == self.scorer.rules.version:
            self.scorer.rules.activate(self.scorer.rules.current)
            return False
        try:
            fresh = self.control.compile(row)
        except FraudGuardError as error:
            _log.error(
                "rule pack version %s does not compile here; keeping %s: %s",
                row.number,
                self.scorer.rules.version,
                error,
            )
            return False
        self.scorer.rules.activate(fresh)
        _log.info("rule pack version %s is live here (%s)", row.number, fresh.version)
        return True

    def _model(self, pointer: Pointer) -> bool:
        if not self._fresh(Slot.MODEL, pointer):
            return False
        row = self.control.row(pointer.version_id or 0)
        registry = self.control.registry
        if row is None or registry is None or row.content == self.scorer.model_version:
            return False
        try:
            loaded = registry.load(row.content)
        except (FraudGuardError, OSError, ValueError) as error:
            _log.error("model %s not loaded here; keeping the current one: %s", row.content, error)
            return False
        if not self.scorer.use_model(loaded):  # fitted on other reference data: logged there
            return False
        _log.info("model version %s is live here (%s)", row.number, row.content)
        return True

    def _shadow(self, pointer: Pointer) -> None:
        current = self.scorer.shadow
        if current is not None and current.version_id == pointer.version_id:
            return
        if current is not None:
            self.flush()
            self.scorer.shadow = None
        self._flushed = -1
        if pointer.version_id is None or pointer.version_id == self._refused_shadow:
            return
        row = self.control.row(pointer.version_id)
        if row is None:
            return
        try:
            self.scorer.shadow = ShadowRun(row.id, self.control.compile(row))
        except FraudGuardError as error:
            self._refused_shadow = row.id
            _log.error("shadow version %s does not compile here: %s", row.number, error)

    def flush(self) -> None:
        """Write this worker's shadow counts when they moved."""
        shadow = self.scorer.shadow
        if shadow is None:
            return
        tally = shadow.tally.snapshot()
        if tally["orders"] == self._flushed:
            return
        try:
            self.control.record_shadow(shadow.version_id, self.worker, tally)
        except FraudGuardError as error:
            _log.warning("shadow counts not written: %s", error)
            return
        self._flushed = tally["orders"]
