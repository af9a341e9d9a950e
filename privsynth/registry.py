"""Name-based registries so generators, accountants, metrics and attacks plug in.

A registry maps a short public name (used on the command line and in ledgers) to a
factory. Unknown names raise :class:`~privsynth.errors.ConfigurationError` listing the
valid choices, so a typo never becomes a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from privsynth.errors import ConfigurationError

T = TypeVar("T")


class Registry(Generic[T]):
    """A mapping from names to factories of one kind of component."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator registering ``item`` under ``name``; duplicate names are a bug."""

        def decorator(item: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._items[name] = item
            return item

        return decorator

    def unregister(self, name: str) -> None:
        """Remove ``name`` (for plug-ins that are loaded temporarily, e.g. in tests)."""
        self._items.pop(name, None)

    def get(self, name: str) -> T:
        """The item called ``name``; a clear error lists valid names otherwise."""
        try:
            return self._items[name]
        except KeyError:
            choices = ", ".join(sorted(self._items)) or "none"
            raise ConfigurationError(
                f"unknown {self.kind} {name!r}", hint=f"choose one of: {choices}"
            ) from None

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
