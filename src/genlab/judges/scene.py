"""The exact ``scene`` judge: does the image contain exactly what the prompt asks?

The object-level protocol of GenEval (Ghosh et al., 2023) — detect objects,
then check counts, colours, relative positions and co-occurrence — made
strict and exact: the detector (:mod:`genlab.judges.detect`) is image
analysis with no learned model, so there is no judge error to estimate on the
``shapes`` world, and every verdict says in one sentence why it failed.

Per category (``groups`` and friends are :class:`PromptSpec` fields):

- single, counting, multi, binding: the multiset of detected (colour, shape)
  equals the prompt's.
- position: exactly the two objects, and groups[0] lies ``relation`` of
  groups[1] by at least :data:`MIN_OFFSET` of the image between centres.
- negation: exactly ``groups[0].count`` objects of the positive kind, none
  that the negated group matches, nothing else.
- layout: each asked object matched one-to-one (Hungarian assignment) to a
  detected object of its kind whose box has IoU >= :data:`MIN_IOU` with the
  given box; nothing else.
- any prompt naming a background: the detected background is that one.

A failed verdict's ``details["failure"]`` names its failure mode
(:mod:`genlab.judges.failures`: merged objects, wrong count, attribute swap,
wrong side, ...), so that failures can be counted and shown by kind.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from genlab.contracts import Verdict, check_image, check_images
from genlab.errors import InputError
from genlab.judges import failures
from genlab.judges.describe import kinds_phrase, name, negated_phrase, noun
from genlab.judges.detect import DetectedObject, Detections, detect_batch
from genlab.worlds.shapes.spec import Group, PromptSpec

MIN_OFFSET = 0.05  # image fraction between centres along the relation's axis
MIN_IOU = 0.5      # layout: detected box vs the box the user gave
MAX_LISTED = 64    # objects listed in a verdict's details

Kind = tuple[str, str]  # (colour, shape)


class SceneJudge:
    """Strict scene matching from pixels; see the module docstring."""

    name = "scene"
    version = "1.1"  # 1.1: details["failure"] (the verdicts themselves are unchanged)
    higher_is_better = True
    value_range = (0.0, 1.0)  # the pass rate

    def judge(self, images: np.ndarray, specs: Sequence[PromptSpec]) -> list[Verdict]:
        """One verdict per ``(n, H, W, 3) uint8`` image and its spec."""
        _check_inputs(images, specs)
        return [judge_detections(d, s) for d, s in zip(detect_batch(images), specs, strict=True)]

    def judge_one(self, image: np.ndarray, spec: PromptSpec) -> Verdict:
        """The verdict on one ``(H, W, 3) uint8`` image."""
        check_image(image)
        return self.judge(image[None], [spec])[0]


def _check_inputs(images: object, specs: object) -> None:
    arr = check_images(images)
    if 0 in arr.shape[1:3]:
        raise InputError(f"images are empty: shape {arr.shape}; need H, W >= 1")
    if not isinstance(specs, Sequence) or isinstance(specs, (str, bytes)):
        raise InputError(f"specs must be a sequence of PromptSpec, got {type(specs).__name__}")
    if len(specs) != arr.shape[0]:
        raise InputError(f"{arr.shape[0]} images but {len(specs)} specs; need one spec per image")
    for i, s in enumerate(specs):
        if not isinstance(s, PromptSpec):
            raise InputError(f"specs[{i}] must be a PromptSpec, got {type(s).__name__}: {s!r:.80}")


def judge_detections(det: Detections, spec: PromptSpec) -> Verdict:
    """The verdict on detections ``det`` for ``spec`` (pure; no pixels)."""
    details: dict[str, object] = {
        "background": det.background,
        "n_objects": len(det.objects),
        "objects": [o.to_dict() for o in det.objects[:MAX_LISTED]],
    }
    mode = None
    if spec.category == "negation":
        problems = _negation(det.objects, spec)
        mode = failures.negation_mode(det.objects, spec) if problems else None
    else:
        problems = _exact_kinds(det.objects, spec.groups)
        mode = failures.kinds_mode(det.objects, spec.groups) if problems else None
        if not problems and spec.category == "position":
            problems = _position(det.objects, spec, details)
            mode = "wrong side"
        if not problems and spec.category == "layout":
            problems = _layout(det.objects, spec, details)
            mode = "wrong box"
    if spec.background is not None and det.background != spec.background:
        problems.append(f"the background is {det.background}, expected {spec.background}")
        mode = mode if len(problems) > 1 else "wrong background"
    if problems:
        details["failure"] = mode
        return Verdict(False, "; ".join(problems[:2]), details)
    return Verdict(True, f"found {kinds_phrase(_kinds(det.objects))}"
                   + (f" on a {det.background} background" if spec.background else "")
                   + ", as asked", details)


def _kinds(objects: Sequence[DetectedObject]) -> Counter[Kind]:
    return Counter((o.colour, o.shape) for o in objects)


def _expected(groups: Sequence[Group]) -> Counter[Kind]:
    out: Counter[Kind] = Counter()
    for g in groups:
        assert g.colour is not None and g.shape is not None
        out[(g.colour, g.shape)] += g.count
    return out


def _exact_kinds(objects: Sequence[DetectedObject], groups: Sequence[Group]) -> list[str]:
    want, found = _expected(groups), _kinds(objects)
    if want == found:
        return []
    return [f"expected {kinds_phrase(want)}, found {kinds_phrase(found)}"]


def _position(objects: Sequence[DetectedObject], spec: PromptSpec,
              details: dict[str, object]) -> list[str]:
    ga, gb = spec.groups
    a = next(o for o in objects if ga.matches(o.shape, o.colour))
    b = next(o for o in objects if gb.matches(o.shape, o.colour) and o is not a)
    offsets = {"left": b.cx - a.cx, "right": a.cx - b.cx, "above": b.cy - a.cy,
               "below": a.cy - b.cy}
    rel = spec.relation
    assert rel is not None
    details["offset"] = round(offsets[rel], 4)
    if offsets[rel] >= MIN_OFFSET:
        return []
    opposite = {"left": "right", "right": "left", "above": "below", "below": "above"}[rel]
    words = {"left": "left of", "right": "right of", "above": "above", "below": "below"}
    na, nb = name(a.colour, a.shape), name(b.colour, b.shape)
    if offsets[opposite] >= MIN_OFFSET:
        return [f"{na} is {words[opposite]} {nb}, expected {rel}"]
    axis = "horizontally" if rel in ("left", "right") else "vertically"
    return [f"{na} is level with {nb} {axis} (offset {offsets[rel]:+.2f} < {MIN_OFFSET}), "
            f"expected {rel}"]


def _negation(objects: Sequence[DetectedObject], spec: PromptSpec) -> list[str]:
    g, neg = spec.groups[0], spec.negation
    assert neg is not None
    forbidden = [o for o in objects if neg.matches(o.shape, o.colour)]
    positive = [o for o in objects if g.matches(o.shape, o.colour)
                and not neg.matches(o.shape, o.colour)]
    others = [o for o in objects if not g.matches(o.shape, o.colour)
              and not neg.matches(o.shape, o.colour)]
    problems = []
    if forbidden:
        problems.append(f"found {kinds_phrase(_kinds(forbidden))}, "
                        f"forbidden by '{negated_phrase(neg)}'")
    if len(positive) != g.count:
        found = kinds_phrase(_kinds(positive)) if positive else "none"
        problems.append(f"expected {noun(g.count, g.colour, g.shape)}, found {found}")
    if others:
        problems.append(f"found {kinds_phrase(_kinds(others))} not asked for")
    return problems


def _layout(objects: Sequence[DetectedObject], spec: PromptSpec,
            details: dict[str, object]) -> list[str]:
    assert spec.boxes is not None
    # A wrong-kind pair costs more than any same-kind matching can gain, so the
    # assignment pairs kinds exactly (the multisets are already known to agree).
    ious = np.array([[o.box.iou(b) if g.matches(o.shape, o.colour) else -10.0
                      for o in objects] for g, b in zip(spec.groups, spec.boxes, strict=True)])
    rows, cols = linear_sum_assignment(-ious)
    matched = np.maximum(ious[rows, cols], 0.0)
    details["ious"] = [round(float(v), 4) for v in matched]
    problems = []
    for r, v in zip(rows, matched, strict=True):
        if v < MIN_IOU:
            g = spec.groups[r]
            problems.append(f"{name(g.colour, g.shape)} box IoU {v:.2f} < {MIN_IOU}")
    return problems
