# cython: language_level=3, wraparound=False
"""The per-event part of :meth:`VelocityFeatures.transform_one`, compiled: from the event's
hashed ids to the store's observations, and from the store's answers to the feature row.

Python objects throughout (the values are exactly the ones the Python arithmetic gives:
sums ``fen / 100``, ages ``us / 1_000_000``); compiled only to drop the interpreter's cost
per value, which was nearly half of the velocity stage (25 of 57 µs).
"""

from cpython.dict cimport PyDict_Copy, PyDict_SetItem, PyDict_Update
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM
from cpython.ref cimport Py_INCREF

from fraudguard.features.store import Observation

cdef object _new_tuple = tuple.__new__
cdef object _OBSERVATION = Observation
cdef object _US = 1_000_000
cdef object _FEN_PER_CNY = 100


cdef class EntityPlan:
    """How one entity is observed and how its answer is named (built by ``velocity._plan``)."""

    cdef Py_ssize_t position
    cdef str prefix
    cdef object windowed
    cdef tuple counterparts  # positions of the counterpart entities' hashed ids
    cdef bint amounts
    cdef bint first_seen
    cdef tuple columns  # counts, sums, distinct per counterpart, age, is-new
    cdef dict fresh  # the outputs of a key new within the TTL

    def __init__(self, Py_ssize_t position, str prefix, bint windowed, tuple counterparts,
                 bint amounts, bint first_seen, tuple columns, dict fresh):
        self.position = position
        self.prefix = prefix
        self.windowed = bool(windowed)
        self.counterparts = counterparts
        self.amounts = amounts
        self.first_seen = first_seen
        self.columns = columns
        self.fresh = fresh


cdef class EventPlan:
    """Every entity's plan, and the row of missing values the answers are written over."""

    cdef tuple entities
    cdef dict missing

    def __init__(self, entities, dict missing):
        self.entities = tuple(entities)
        for entity in self.entities:
            if not isinstance(entity, EntityPlan):
                raise TypeError("entities must be EntityPlan objects")
        self.missing = missing

    def features(self, store, list hashed, ts, fen):
        """Observe the event's entities in ``store`` (one call) and return its velocity
        features; ``hashed`` holds each entity's hashed id (``None``: missing)."""
        cdef list present = []
        cdef list observations = []
        cdef EntityPlan plan
        cdef Py_ssize_t n_parts, c
        cdef tuple parts
        for plan in self.entities:
            key = hashed[plan.position]
            if key is None:
                continue
            present.append(plan)
            n_parts = len(plan.counterparts)
            parts = PyTuple_New(n_parts)
            for c in range(n_parts):
                part = hashed[<Py_ssize_t>plan.counterparts[c]]
                Py_INCREF(part)
                PyTuple_SET_ITEM(parts, c, part)
            observations.append(
                _new_tuple(_OBSERVATION, (plan.prefix + key, ts, fen, parts, plan.windowed))
            )
        answers = store.observe(observations)
        if len(answers) != len(present):
            raise ValueError("the state store answered a different number of observations")
        cdef dict out = PyDict_Copy(self.missing)
        cdef Py_ssize_t i, k
        cdef tuple columns
        for i in range(len(present)):
            plan = <EntityPlan>present[i]
            counts, sums_fen, distincts, age = answers[i]
            if age is None:
                # New within the TTL, so nothing in any window either (store contract).
                PyDict_Update(out, plan.fresh)
                continue
            columns = plan.columns
            k = 0
            for value in counts:
                PyDict_SetItem(out, columns[k], value)
                k += 1
            if plan.amounts:
                for value in sums_fen:
                    PyDict_SetItem(out, columns[k], value / _FEN_PER_CNY)
                    k += 1
            for distinct in distincts:
                for value in distinct:
                    PyDict_SetItem(out, columns[k], value)
                    k += 1
            if plan.first_seen:
                PyDict_SetItem(out, columns[k], age / _US)
                PyDict_SetItem(out, columns[k + 1], False)
                k += 2
            if k != len(columns):
                raise ValueError("the state store's answer does not match the plan")
        return out
