"""A registry of named definitions (benchmarks, methods), as syne-tune's benchmarking keeps
its ``methods`` and ``benchmark_definitions``: each definition is a frozen dataclass with a
``name``, registered once, looked up by name.

Registering a name twice raises; looking up a name that is not there raises and lists the
valid ones. Definitions keep the order they were registered in (tables and plots follow it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Generic, Protocol, TypeVar

__all__ = ["Named", "Registry", "RegistryError"]


class Named(Protocol):
    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=Named)


class RegistryError(LookupError):
    """A duplicate registration, or a name that is not registered (the message lists the
    valid names)."""


class Registry(Generic[T]):
    """Definitions of one ``kind`` ("benchmark", "method"), by name, in registration order."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, item: T) -> T:
        """Add ``item`` under its name (RegistryError if the name is taken); returns it."""
        if item.name in self._items:
            raise RegistryError(
                f"{self.kind} {item.name!r} is already registered: {self._items[item.name]!r}"
            )
        self._items[item.name] = item
        return item

    def __getitem__(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise RegistryError(
                f"unknown {self.kind} {name!r}; valid: {', '.join(self._items) or '(none)'}"
            ) from None

    def select(self, names: Iterable[str]) -> tuple[T, ...]:
        """The definitions named, in the order given (every unknown name in one error)."""
        names = list(names)
        unknown = [n for n in names if n not in self._items]
        if unknown:
            raise RegistryError(
                f"unknown {self.kind}(s) {', '.join(map(repr, unknown))}; "
                f"valid: {', '.join(self._items) or '(none)'}"
            )
        return tuple(self._items[n] for n in names)

    def names(self) -> list[str]:
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[T]:
        return iter(self._items.values())

    def __len__(self) -> int:
        return len(self._items)
