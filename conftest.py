"""Collection rules and environment for the whole suite (``testpaths`` includes the
package for doctests)."""

import os

# The suite replays simulated history dated when the sample was made: the bound on how old
# an online order may be (FRAUDGUARD_MAX_EVENT_AGE_DAYS) is tested on its own, with its
# default, in tests/scoring/test_scoring.py. Subprocess servers inherit this too.
os.environ.setdefault("FRAUDGUARD_MAX_EVENT_AGE_DAYS", "3650")

# Alembic's env.py runs migrations when imported; it is no module to doctest.
collect_ignore_glob = ["fraudguard/db/migrations/*"]
