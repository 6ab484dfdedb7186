"""Reading with a URL or an engine: a caller's engine keeps its pool, one made for a URL
is closed once the read is done (no file or server connection left open)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text

from fraudguard.db import create_db_engine, engine_for


def _read(engine_or_url: str | Engine) -> tuple[int, Engine]:
    with engine_for(engine_or_url) as engine, engine.connect() as connection:
        value = connection.execute(text("select 1")).scalar_one()
    return value, engine


def test_a_callers_engine_keeps_its_pooled_connection(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'own.db'}")
    value, used = _read(engine)
    assert value == 1
    assert used is engine
    assert engine.pool.checkedin() == 1
    engine.dispose()


def test_an_engine_made_for_a_url_is_closed_after_the_read(tmp_path: Path) -> None:
    value, used = _read(f"sqlite:///{tmp_path / 'url.db'}")
    assert value == 1
    assert used.pool.checkedin() == 0
