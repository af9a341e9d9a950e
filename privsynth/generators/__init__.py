"""DP generators, registered by name (``privsynth synthesize --generator NAME``).

Importing this package changes no process-wide setting; programs that fit models may
call :func:`prefer_fast_compilation` first, for faster XLA compiles on CPUs.
"""

from privsynth.generators import aim as _aim  # noqa: F401  (registers "aim")
from privsynth.generators import dpsgd as _dpsgd  # noqa: F401  (registers "dpsgd", torch lazily)
from privsynth.generators import independent as _independent  # noqa: F401  ("independent")
from privsynth.generators import mst as _mst  # noqa: F401  (registers "mst")
from privsynth.generators import sdv_baselines as _sdv  # noqa: F401  ("sdv:*", SDV imported lazily)
from privsynth.generators import smartnoise as _smartnoise  # noqa: F401  ("smartnoise:*", lazily)
from privsynth.generators.base import GENERATORS, Generator, ProgressCallback
from privsynth.xla import prefer_fast_compilation

__all__ = ["GENERATORS", "Generator", "ProgressCallback", "prefer_fast_compilation"]
