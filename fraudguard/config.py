"""Settings, read once from the environment (``FRAUDGUARD_`` prefix) or a ``.env`` file.

Every path to reference data is optional: unset means the defaults shipped inside the
package (``fraudguard/reference/data/``). A bad value fails at start with the variable named.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pydantic
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from fraudguard.exceptions import ConfigError, FieldProblem

__all__ = ["FailurePolicy", "Settings", "get_settings"]


class FailurePolicy(StrEnum):
    #: A missing model or store gives rules-only decisions marked ``degraded``.
    FAIL_OPEN = "fail_open"
    #: A missing model or store sends every order to review.
    FAIL_CLOSED = "fail_closed"


class Settings(BaseSettings):
    """FraudGuard's configuration; each field is ``FRAUDGUARD_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(
        env_prefix="FRAUDGUARD_", env_file=".env", extra="ignore", frozen=True
    )

    home: Path = Field(
        default=Path("var"),
        description="Folder for local state: SQLite database, model registry, logs.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the decision log, cases and stored API keys "
        "(`postgresql+psycopg://...` to share them between workers and machines); default a "
        "SQLite file under `home`.",
    )
    state_url: str = Field(
        default="memory://",
        description="Velocity state store: `memory://` (this process) or "
        "`redis://[:password@]host:port/db[?key_prefix=...&retry_after_s=1&socket_timeout=0.25]`"
        ", shared by every worker.",
    )
    dask_scheduler: str | None = Field(
        default=None,
        description="Dask scheduler address (tcp://host:8786) for bulk scoring and backtests "
        "with --engine dask; unset = a local cluster on this machine.",
    )
    model_registry: Path | None = Field(
        default=None, description="Model registry folder; default `home`/models."
    )
    bootstrap_data: Path = Field(
        default=Path("data/samples/recharges.parquet"),
        description="Labelled history to train the first model from when none is promoted.",
    )
    bootstrap_model: bool = Field(
        default=True,
        description="Train and promote a model from `bootstrap_data` at start when none is.",
    )
    reload_interval_s: float = Field(
        default=2.0,
        ge=0,
        description="How often each worker polls the database for the rule pack and model "
        "change control made live, reports its shadow counts and reads the fraud reports "
        "stored since into its feedback features (0 = never: activations and reports from "
        "elsewhere reach a worker at its next start). A version that does not compile or "
        "load here is logged; the last good one stays live.",
    )
    rules_path: Path | None = Field(
        default=None,
        description="Rule pack (YAML file or folder) recorded as the first active version at "
        "first start (change control keeps the live pack in the database from then on); "
        "default the shipped pack.",
    )
    channels_path: Path | None = Field(
        default=None,
        description="Official and authorised channels YAML; default the shipped file.",
    )
    promotions_path: Path | None = Field(
        default=None, description="Promotion catalogue YAML; default the shipped file."
    )
    number_prefixes_path: Path | None = Field(
        default=None, description="Number prefix→operator CSV; default the shipped file."
    )
    number_segments_path: Path | None = Field(
        default=None,
        description="Number segment→province CSV; default the shipped, illustrative table.",
    )
    lists_path: Path | None = Field(
        default=None, description="Block/allow lists YAML; default the shipped file."
    )
    ip_intel_path: Path | None = Field(
        default=None,
        description="Flagged IP ranges CSV; default the shipped, illustrative table.",
    )
    ip_regions_path: Path | None = Field(
        default=None,
        description="IP range→province CSV; default the shipped, illustrative table.",
    )
    allow_reference_mismatch: bool = Field(
        default=False,
        description="Serve a model fitted on other reference data than the files above "
        "(its manifest's `reference_version` is not the loaded files' version). Off: such a "
        "model is refused at start, hot reload and activation (change control refuses to "
        "approve it); the service scores without "
        "it (degraded) and `/readyz` answers 503 naming both versions until a model "
        "trained on these files is promoted. On: it is served and `/readyz` carries the "
        "mismatch as a warning.",
    )
    label_policy_path: Path | None = Field(
        default=None,
        description="Label policy YAML: which outcome kinds mean fraud (and which typology), "
        "whether a reviewer's disposition wins over outcomes, and the maturity window after "
        "which an allowed order counts as genuine; default the shipped policy "
        "(`fraudguard/outcomes/data/label_policy.yaml`). Read at start: a bad file stops it.",
    )
    api_keys: SecretStr | None = Field(
        default=None,
        description="Start-up API keys as `key:role,key:role` (roles: scorer, analyst, "
        "reviewer, approver, admin); held hashed. More keys: `fraudguard keys add`.",
    )
    hmac_key: SecretStr = Field(
        default=SecretStr("fraudguard-dev-only-key"),
        description="Key for hashing personal data used as keys (velocity state, linked "
        "cases) and for signing console sessions. Set it in production.",
    )
    failure_policy: FailurePolicy = Field(
        default=FailurePolicy.FAIL_OPEN,
        description="Model or velocity store down: `fail_open` decides on what is left (rules "
        "alone without a model), marked degraded; `fail_closed` sends every such order at "
        "least to review.",
    )
    max_event_age_days: int = Field(
        default=90,
        ge=1,
        le=3650,
        description="Oldest `event_time` `/v1/score` and `/v1/score/batch` accept, in days "
        "before now: older than the longest velocity memory (30 days) plus the label "
        "maturity of card chargebacks (60 days) is history, not an order to decide. Score "
        "history in bulk with `fraudguard score`, which has no such bound.",
    )
    log_level: str = Field(
        default="INFO",
        pattern=r"^(DEBUG|INFO|WARNING|ERROR)$",
        description="Level of the JSON log lines on stderr.",
    )
    rate_limit: str = Field(
        default="2000/second",
        description="Requests per API key in `limits` notation, e.g. `2000/second` or "
        "`50/second;1000/minute` (`;` combines; a batch counts each event); empty = no limit.",
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="Where rate-limit counters live (a `limits` storage URI); memory:// counts "
        "in each worker process.",
    )
    sqlite_synchronous: str = Field(
        default="NORMAL",
        pattern=r"^(NORMAL|FULL)$",
        description="SQLite decision log: NORMAL survives a process crash, FULL also a power "
        "cut (one fsync per group commit).",
    )
    api_key_refresh_s: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="How often the service re-reads the keys made with `fraudguard keys` "
        "(an added or revoked key takes effect within this many seconds).",
    )
    console_timezone: str = Field(
        default="Asia/Shanghai",
        description="Time zone (IANA name, e.g. `Asia/Shanghai`, `Asia/Urumqi`, `UTC`) the "
        "review console shows every time in, and whose calendar days the console's dashboard "
        "and date filters use; each time is shown with the zone and its UTC offset. The case "
        "API and exports keep ISO 8601 times with their offset.",
    )

    change_backtest_days: int = Field(
        default=30,
        ge=1,
        le=366,
        description="Change control: how many days of the decision log a proposed rule pack "
        "is backtested on against the active one (a proposal may ask for another window).",
    )
    change_backtest_max_orders: int = Field(
        default=2_000_000,
        ge=1_000,
        le=50_000_000,
        description="Change control: most logged orders one backtest reads (the oldest of the "
        "window first; the evidence says when the window held more). Bounds its memory: "
        "about 0.5 GiB per million orders.",
    )
    change_emergency_rollback: bool = Field(
        default=False,
        description="Change control: let one approver or admin roll back to an earlier "
        "approved version alone, without a second person (recorded as an emergency in the "
        "audit trail). Off: a rollback asked for by one person waits for another's.",
    )
    change_holdout_data: Path | None = Field(
        default=None,
        description="Change control: labelled history a proposed model and the active one "
        "are both scored on (the candidate's held-out window of it); default "
        "`bootstrap_data`.",
    )

    @field_validator("console_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(
                f"unknown time zone {value!r}: use an IANA name such as Asia/Shanghai"
            ) from None
        return value

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'fraudguard.db'}"

    @property
    def resolved_model_registry(self) -> Path:
        return self.model_registry or self.home / "models"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; raises :class:`ConfigError` naming each bad variable."""
    try:
        return Settings()
    except pydantic.ValidationError as exc:
        problems = [
            FieldProblem(
                location="FRAUDGUARD_" + ".".join(str(p) for p in err["loc"]).upper(),
                message=err["msg"],
            )
            for err in exc.errors(include_url=False, include_input=False)
        ]
        raise ConfigError("invalid FraudGuard configuration", problems) from None
