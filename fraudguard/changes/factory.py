"""Change control outside the service (the CLI, notebooks): over the configured database,
with the features, lists and model registry the service scores with."""

from __future__ import annotations

import getpass
from functools import partial

from sqlalchemy import Engine

from fraudguard.auth import ApiKeys, ApiKeyStore, Role
from fraudguard.cases import Actor
from fraudguard.changes.enums import ChangeKind
from fraudguard.changes.packs import PackCompiler
from fraudguard.changes.service import ChangeControl, ChangeSettings
from fraudguard.config import Settings
from fraudguard.db import create_db_engine, upgrade_database
from fraudguard.features import feature_specs
from fraudguard.models import ModelRegistry, reference_mismatch
from fraudguard.reference import ReferencePaths, load_reference
from fraudguard.rules import DEFAULT_PACK_DIR, pack_text

__all__ = ["key_actor", "open_change_control", "seed_defaults"]


def open_change_control(settings: Settings, engine: Engine | None = None) -> ChangeControl:
    """:class:`ChangeControl` over ``settings``' database (brought to the newest schema),
    compiling packs against the configured reference data's features and lists, and
    checking models against that reference data as the service does."""
    paths = ReferencePaths.from_settings(settings)
    reference = load_reference(paths)
    kinds = {name: spec.kind for name, spec in feature_specs(reference).items()}
    if engine is None:
        engine = create_db_engine(settings.resolved_database_url, settings.sqlite_synchronous)
    upgrade_database(engine)
    return ChangeControl(
        engine,
        PackCompiler(kinds, reference.lists),
        ModelRegistry(settings.resolved_model_registry),
        ChangeSettings.from_settings(settings),
        partial(
            reference_mismatch,
            serving_version=reference.features_version,
            serving_overrides=paths.overrides(),
        ),
    )


def seed_defaults(control: ChangeControl, settings: Settings) -> None:
    """What a first start would record, when nothing is yet: the configured rule pack and
    the registry's promoted model as the active versions (for the CLI before any server)."""
    path = settings.rules_path or DEFAULT_PACK_DIR
    control.seed(ChangeKind.RULESET, pack_text(path), str(path))
    registry = control.registry
    promoted = None if registry is None else registry.promoted()
    if promoted is not None:
        control.seed(ChangeKind.MODEL, promoted.version, "the model registry")


def key_actor(settings: Settings, engine: Engine, key: str | None) -> Actor:
    """Who acts from the command line: the API key's identity (as the API records it), or
    ``cli:<user>`` - who may draft and propose, never decide - without one."""
    if not key:
        return Actor(id=f"cli:{getpass.getuser()}"[:64], role="cli")
    keys = ApiKeys.parse(settings.api_keys, settings.hmac_key)
    keys.replace_stored(ApiKeyStore(engine, [str(r) for r in Role]).active())
    found = keys.authenticate(f"Bearer {key.strip()}")
    return Actor(id=found.actor_id, role=found.role.value)
