"""What a track returns: per-category scores with 95% intervals (DESIGN.md, "Track")."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol, runtime_checkable

from genlab.contracts import Generator
from genlab.store import Store


@dataclass(frozen=True)
class ScoreRecord:
    """One score of one generator on one track category (``test/counting``, ...).

    Attributes:
        value: the fraction of images judged correct (or a mean of such fractions).
        ci_low, ci_high: its 95% bootstrap interval.
        n: the number of images behind it.
    """

    track: str
    generator: str
    category: str
    value: float
    ci_low: float
    ci_high: float
    n: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Scorecard:
    """A track's result for one generator, as stored in run ``run_id``."""

    track: str
    generator: str
    run_id: int
    records: tuple[ScoreRecord, ...]

    def get(self, category: str) -> ScoreRecord:
        for r in self.records:
            if r.category == category:
                return r
        raise KeyError(category)

    @classmethod
    def from_store(cls, store: Store, run_id: int) -> Scorecard:
        run = store.run(run_id)
        records = tuple(ScoreRecord(run.track, run.generator, **s)
                        for s in store.run_scores(run_id))
        return cls(run.track, run.generator, run_id, records)


@runtime_checkable
class Track(Protocol):
    """A benchmark: fixed prompt sets and protocol; ``run`` scores one generator."""

    name: str
    version: str
    headline: str
    """The category that ranks generators (the controls must order on it)."""

    def run(self, generator_name: str, generator: Generator, store: Store, profile: str,
            fresh: bool = False, *, progress: bool = False) -> Scorecard:
        """Evaluate ``generator`` under ``profile`` (``smoke`` or ``default``), storing
        every sample; resume an unfinished identical run unless ``fresh``."""
        ...

