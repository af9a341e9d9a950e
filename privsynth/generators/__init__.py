"""DP generators, registered by name (``privsynth synthesize --generator NAME``)."""

from privsynth.generators._jax import configure_xla

configure_xla()  # before mbi/jax create their backend

from privsynth.generators import mst as _mst  # noqa: E402, F401  (registers "mst")
from privsynth.generators.base import GENERATORS, Generator, ProgressCallback  # noqa: E402

__all__ = ["GENERATORS", "Generator", "ProgressCallback"]
