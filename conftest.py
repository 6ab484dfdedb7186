"""Collection rules for the whole suite (``testpaths`` includes the package for doctests)."""

# Alembic's env.py runs migrations when imported; it is no module to doctest.
collect_ignore_glob = ["fraudguard/db/migrations/*"]
