"""The library's default settings, in a module with no heavy imports so that the CLI
can show them in its help without loading pandas or JAX (one place, not copies)."""

from __future__ import annotations

#: default share of the zCDP budget spent on discovering incomplete domains
DISCOVERY_SHARE = 0.1
#: share of the budget for the DP data-quality counts (left-out rows, invalid cells)
QUALITY_SHARE = 0.02
#: rows kept per person when the user does not say: covers most encounters or
#: admissions per patient while keeping the noise (which grows with it) moderate
DEFAULT_MAX_ROWS = 5
#: a drafted schema leaves out categories held by fewer records than this
DEFAULT_MIN_COUNT = 10
#: the generator used when none is named: "auto" picks one from the table's shape
#: (privsynth.generators.choice)
DEFAULT_GENERATOR = "auto"
