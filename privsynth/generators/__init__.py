"""DP generators, registered by name (``privsynth synthesize --generator NAME``).

Importing this package changes no process-wide setting; programs that fit models may
call :func:`prefer_fast_compilation` first, for faster XLA compiles on CPUs.
"""

from privsynth.generators import mst as _mst  # noqa: F401  (registers "mst")
from privsynth.generators.base import GENERATORS, Generator, ProgressCallback
from privsynth.xla import prefer_fast_compilation

__all__ = ["GENERATORS", "Generator", "ProgressCallback", "prefer_fast_compilation"]
