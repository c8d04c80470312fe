"""One registry mechanism for every kind of component (worlds, judges, generators, tracks).

Modelled on HELM's tiny run-spec registry: explicit registration, duplicates
refused, and a typo gets close-match suggestions instead of a bare KeyError.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar, overload

from genlab.errors import GenlabError, UnknownNameError, suggest

T = TypeVar("T")


class Registry(Generic[T]):
    """Name -> factory map for one kind of component.

    Factories (not instances) are stored so that registering is free and
    building a component (which may load a checkpoint) happens on demand.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, Callable[..., T]] = {}

    @overload
    def register(self, name: str, factory: Callable[..., T]) -> Callable[..., T]: ...

    @overload
    def register(self, name: str, factory: None = None
                 ) -> Callable[[Callable[..., T]], Callable[..., T]]: ...

    def register(self, name: str, factory: Callable[..., T] | None = None
                 ) -> Callable[..., T] | Callable[[Callable[..., T]], Callable[..., T]]:
        """Register ``factory`` under ``name``; usable as a decorator."""

        def add(f: Callable[..., T]) -> Callable[..., T]:
            if name in self._factories:
                raise GenlabError(f"{self.kind} {name!r} is already registered")
            if not name or name != name.strip():
                raise GenlabError(f"bad {self.kind} name {name!r}")
            self._factories[name] = f
            return f

        return add(factory) if factory is not None else add

    def get(self, name: str, **kwargs: object) -> T:
        """Build the component called ``name`` (kwargs go to its factory)."""
        return self.factory(name)(**kwargs)

    def factory(self, name: str) -> Callable[..., T]:
        if name not in self._factories:
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}; known: {', '.join(self.names())}."
                + suggest(name, self._factories)
            )
        return self._factories[name]

    def names(self) -> list[str]:
        return sorted(self._factories)

    def __contains__(self, name: object) -> bool:
        return name in self._factories

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._factories)
