"""History import errors, in FraudGuard's one tree (the CLI prints them on one line, exit 2)."""

from __future__ import annotations

from fraudguard.exceptions import DataFileError

__all__ = ["HistoryFileError", "MappingError"]


class MappingError(DataFileError):
    """The mapping file is unreadable or breaks its schema; each problem names the YAML key."""

    code = "invalid_history_mapping"


class HistoryFileError(DataFileError):
    """A history file that cannot be imported at all (unreadable, a mapped column missing,
    no row left)."""

    code = "invalid_history_file"
