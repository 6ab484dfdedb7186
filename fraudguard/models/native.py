"""The boosted trees compiled to native code, for the one-event request path.

treelite's GTIL walks the trees in an interpreter: over 100 us for one row of a
150-tree model. TL2cgen turns the same treelite model into C; compiled once at registration
(``-O1``: a few seconds, within 10% of ``-O2`` at run time) it scores one row in about a
fifth of that. The library is an artifact like the pipeline: its sha256 is in the manifest
and it is loaded only when that matches, on the platform it was built for, and after a
self-check against GTIL. Anywhere else the model runs on GTIL, with the same numbers.

The generated ``predict(union Entry* data, int pred_margin, double* result)`` reads one row
of 8-byte entries, a present value as ``fvalue`` (double) and a missing one as
``missing == -1`` in the low 4 bytes. :data:`MISSING` is the NaN whose low 4 bytes are
exactly that, so one float64 row serves GTIL (any NaN is missing) and the compiled trees.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import io
import logging
import platform
import shutil
import struct
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from fraudguard.exceptions import ArtifactIntegrityError, ModelError

__all__ = ["MISSING", "NativeTrees", "compile_trees", "native_platform"]

_log = logging.getLogger(__name__)

#: How far the compiled trees may differ from GTIL on the self-check rows (both sum the
#: same float64 leaf values in the same order, so they agree exactly in practice).
SELF_CHECK_TOLERANCE = 1e-9
_COMPILER_FLAGS = ["-O1"]
#: A quiet NaN with the low word 0xFFFFFFFF: ``missing == -1`` to the compiled trees.
MISSING: float = struct.unpack("<d", struct.pack("<Q", 0x7FF8_0000_FFFF_FFFF))[0]
_MISSING_BITS = np.uint64(0x7FF8_0000_FFFF_FFFF)
_LOW_WORD = np.uint64(0xFFFF_FFFF)


def native_platform() -> str:
    """Where a compiled library runs: OS and CPU architecture, e.g. ``linux-x86_64``."""
    return f"{sys.platform}-{platform.machine()}"


def compile_trees(trees: Any, out: Path) -> Path:
    """Compile a treelite model into the shared library ``out``; :class:`ModelError` when
    this machine cannot (no C compiler, or a model TL2cgen does not support)."""
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        raise ModelError("no C compiler (gcc) on this machine to compile the trees")
    if sys.byteorder != "little":
        raise ModelError("compiled trees need a little-endian machine")
    import tl2cgen

    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".compile-") as scratch:
        built = Path(scratch) / out.name
        # TL2cgen prints its progress notes ("Parallel compilation enabled; ...") with
        # print(): they go to the debug log, not the service's console.
        notes = io.StringIO()
        try:
            with contextlib.redirect_stdout(notes):
                tl2cgen.export_lib(
                    trees,
                    toolchain=Path(compiler).name,
                    libpath=built,
                    params={"parallel_comp": 2},
                    nthread=2,
                    options=_COMPILER_FLAGS,
                )
        except Exception as exc:  # TL2cgen raises its own error type, or the compiler fails
            raise ModelError(f"compiling the trees failed: {type(exc).__name__}") from exc
        finally:
            for note in notes.getvalue().splitlines():
                _log.debug("tl2cgen: %s", note)
        built.replace(out)
    return out


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class NativeTrees:
    """A compiled tree library: the raw margin of one encoded row.

    Thread-safe: the generated ``predict`` keeps no state between calls.
    """

    def __init__(self, library: Path, sha256: str, n_features: int) -> None:
        actual = _sha256(library)
        if actual != sha256:
            raise ArtifactIntegrityError(
                f"refusing the compiled trees {library.name}: sha256 {actual[:12]}… does not "
                f"match the manifest ({sha256[:12]}…); re-register the model"
            )
        try:
            lib = ctypes.CDLL(str(library))
        except OSError as exc:
            raise ModelError(f"the compiled trees {library.name} do not load here") from exc
        lib.get_num_feature.restype = ctypes.c_int32
        lib.get_threshold_type.restype = ctypes.c_char_p
        if lib.get_num_feature() != n_features:
            raise ArtifactIntegrityError(
                f"refusing the compiled trees {library.name}: built for "
                f"{lib.get_num_feature()} inputs, the model has {n_features}"
            )
        if lib.get_threshold_type() != b"float64":
            raise ModelError("the compiled trees do not use float64 thresholds")
        double_p = ctypes.POINTER(ctypes.c_double)
        lib.predict.argtypes = [double_p, ctypes.c_int, double_p]
        lib.predict.restype = None
        self._predict = lib.predict
        self._lib = lib  # keeps the library mapped
        self.n_features = n_features
        self._row_type = ctypes.c_double * n_features
        self._buffers = threading.local()  # one input row and result per thread

    def margin_values(self, values: Sequence[float]) -> float | None:
        """The raw margin (log-odds, base score included) of one encoded row, each missing
        value given as :data:`MISSING` (a plain NaN would be read as a number).

        ``None`` when the compiled trees cannot read the row: a present value whose low
        4 bytes are all ones (``0.8749999999999999`` is one) looks like ``missing == -1``
        to them. The caller scores such a row with GTIL instead.
        """
        local = self._buffers
        try:
            row, result, bits = local.buffers
        except AttributeError:
            row, result = self._row_type(), ctypes.c_double()
            bits = np.frombuffer(memoryview(row).cast("B"), dtype=np.uint64)  # same memory
            local.buffers = (row, result, bits)
        row[:] = values
        if np.any(((bits & _LOW_WORD) == _LOW_WORD) & (bits != _MISSING_BITS)):
            return None
        result.value = 0.0
        self._predict(row, 1, ctypes.byref(result))
        return float(result.value)

    def margin_one(self, row: npt.NDArray[np.float64]) -> float | None:
        """:meth:`margin_values` of a float64 row where any NaN is missing."""
        flat = np.asarray(row, dtype=np.float64).reshape(-1)
        return self.margin_values(np.where(np.isnan(flat), MISSING, flat).tolist())

    def self_check(self, rows: npt.NDArray[np.float64], expected: npt.NDArray[np.float64]) -> None:
        """Refuse the library unless it reproduces ``expected`` margins on ``rows``."""
        got = [self.margin_one(row) for row in rows]
        # A row the trees cannot read is scored by GTIL in service: nothing to compare.
        pairs = [(g, e) for g, e in zip(got, expected, strict=True) if g is not None]
        worst = max((abs(g - e) for g, e in pairs), default=0.0)
        if not worst <= SELF_CHECK_TOLERANCE:
            raise ArtifactIntegrityError(
                f"refusing the compiled trees: they differ from the model by {worst:.3g}"
            )
