"""Why an image failed, in a few named groups: the failure modes of the ``scene`` judge.

A pass rate says how often a generator fails, not how. The compositional
benchmarks sort failures by hand or by a VLM (T2I-CompBench, Huang et al.,
2023; the error analysis of GenEval, Ghosh et al., 2023); here the judge's own
detections decide, exactly, which check failed first:

- ``merged objects``: a component no shape explains (two objects touching, or
  one drawn malformed) or whose colour is none of the vocabulary's;
- ``wrong count``: more or fewer objects than asked;
- ``attribute swap``: the right colours and the right shapes, paired wrongly
  ("a red square and a blue circle" drawn as a blue square and a red circle);
- ``wrong attribute``: the right number of objects, some of the wrong kind;
- ``forbidden object``: a negation's excluded kind is present;
- ``wrong side``: a position prompt's two objects right, their relation not;
- ``wrong box``: a layout's objects right, some not in their box (IoU);
- ``wrong background``: only the named background is wrong.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from genlab.judges.detect import BLOB, UNKNOWN, DetectedObject
from genlab.worlds.shapes.spec import Group, PromptSpec

MODES: tuple[str, ...] = ("merged objects", "wrong count", "attribute swap", "wrong attribute",
                          "forbidden object", "wrong side", "wrong box", "wrong background")
OTHER = "other"  # a failure judged before failure modes were recorded (judge < 1.1)


def mode_of(details: Mapping[str, Any]) -> str:
    """The failure mode a failed verdict's ``details`` record (``OTHER`` if none)."""
    return str(details.get("failure") or OTHER)


def _malformed(objects: Sequence[DetectedObject]) -> bool:
    return any(o.shape == BLOB or o.colour == UNKNOWN for o in objects)


def kinds_mode(objects: Sequence[DetectedObject], groups: Sequence[Group]) -> str:
    """The mode of a failed exact-kinds check (every group names colour and shape)."""
    if _malformed(objects):
        return "merged objects"
    if len(objects) != sum(g.count for g in groups):
        return "wrong count"
    colours = Counter(c for g in groups for c in [g.colour] * g.count)
    shapes = Counter(s for g in groups for s in [g.shape] * g.count)
    if (Counter(o.colour for o in objects) == colours
            and Counter(o.shape for o in objects) == shapes):
        return "attribute swap"
    return "wrong attribute"


def negation_mode(objects: Sequence[DetectedObject], spec: PromptSpec) -> str:
    """The mode of a failed negation check."""
    assert spec.negation is not None
    if _malformed(objects):
        return "merged objects"
    if any(spec.negation.matches(o.shape, o.colour) for o in objects):
        return "forbidden object"
    return "wrong count" if len(objects) != spec.groups[0].count else "wrong attribute"
