"""Hot reload: a scorer picks up an edited rule pack and a newly promoted (or rolled back)
model without a restart. Whatever fails to load is logged and the current one stays live;
each swap is one reference assignment, so a request sees the old or the new, never a mix."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fraudguard.exceptions import FraudGuardError

if TYPE_CHECKING:
    from fraudguard.scoring.service import Scorer

__all__ = ["Reloader"]

_log = logging.getLogger(__name__)


class Reloader:
    """Watches the scorer's rule files (by modification time) and the model registry's
    promoted version."""

    def __init__(self, scorer: Scorer) -> None:
        self._scorer = scorer
        self._rules_stamp = self._rule_files_stamp()

    def refresh(self) -> bool:
        """Pick up an edited rule pack and a newly promoted (or rolled back) model, without
        a restart. Whatever fails to load is logged and the current one stays live.
        Returns whether anything changed; nothing does while change control decides what
        is live (``scorer.managed``)."""
        if self._scorer.managed:
            return False
        changed = self._refresh_rules()
        return self._refresh_model() or changed

    def _rule_files_stamp(self) -> tuple[tuple[str, float], ...]:
        path = self._scorer.rules.path
        files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
        return tuple((str(f), f.stat().st_mtime) for f in files if f.exists())

    def _refresh_rules(self) -> bool:
        stamp = self._rule_files_stamp()
        if stamp == self._rules_stamp:
            return False
        self._rules_stamp = stamp
        before = self._scorer.rules.version
        try:
            self._scorer.rules.reload()
        except FraudGuardError:
            return False  # RuleRegistry logged it; the last good pack stays live
        return self._scorer.rules.version != before

    def _refresh_model(self) -> bool:
        from fraudguard.models import ModelRegistry

        scorer = self._scorer
        registry = ModelRegistry(scorer.settings.resolved_model_registry)
        refused = scorer.refused_model
        try:
            promoted = registry.promoted()
            if promoted is None or promoted.version == scorer.model_version:
                return False
            if refused is not None and refused == scorer.reference_mismatch(promoted):
                return False  # refused already (and logged): not every poll
            fresh = registry.load(promoted.version)
        except (FraudGuardError, OSError, ValueError) as error:
            _log.error("promoted model not loaded, keeping the current one: %s", error)
            return False
        before = scorer.model_version
        if not scorer.use_model(fresh):  # fitted on other reference data
            return False
        _log.info("model %s -> %s", before, fresh.manifest.version)
        return True
