"""``video-twin``: the simulator from a start the context cannot tell apart from the truth's.

A video generator of the ``longvideo`` track sees the first ``k`` frames of a 32 px
video (uint8 pixels) and the prompt (Phyworld's protocol; Kang et al., 2024). Many
starts render exactly those pixels: this control walks from the truth's start to the
edge of that set, one free field of one body at a time (in a seeded order, each as far
as every context pixel stays unchanged and the prompt still holds: only what its
motion words leave free moves, and bodies the ``collision`` scenario puts on one line
stay on one line), and continues the start it reaches with the world's own simulator
and renderer.

It is a witness, not an estimator: a reading of the context with no error in its
pixels, continued by exact physics, which happens to be another start than the truth's.
Where its video leaves the truth's, the context cannot say which of the two is the
truth's; a generator sees the same frames and prompt for both, so from the time their
paths are more than 2 px apart it is more than 1 px off for one of them, and a target
that asks more of every scene is out of every generator's reach. (A generator may
still land nearer the truth than the twin does, by reading the middle of what the
pixels allow, or by luck.) How fast two such starts part is the scene's sensitivity to
its initial conditions, the finite predictability horizon of chaotic dynamics
(Lorenz, 1963, "Deterministic nonperiodic flow"; Lorenz, 1969, "The predictability of
a flow which possesses many scales of motion"); colliding discs are the textbook case
(Sinai's billiards, 1970). ``bench/bench_twin.py`` measures the horizon against how
far the start is moved. Privileged: it reads the exact scene, as ``video-oracle`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from genlab.contracts import VideoRequest
from genlab.errors import GenlabError
from genlab.generators.video.controls import SimulatorRollout, continue_scene, privileged_scene
from genlab.generators.video.refine import (
    free_fields,
    misfit,
    moved,
    pattern_moves,
    tied_pairs,
)
from genlab.worlds.motion import grammar
from genlab.worlds.motion.spec import MotionScene

VERSION = "4"  # 4: only pairs at exactly one height tied; 2-3: the walk; 1: one direction
REACH_PX = (1e-9, 0.05)
"""The bisection's bracket for each move (pixels): a move below the first is no move; a
body out of view in every context frame moves by the second."""
BISECTIONS = 32


@dataclass(frozen=True)
class Twin:
    """A start whose context renders pixel for pixel as the truth's.

    Attributes:
        scene: the twin's scene at t = 0.
        step_px: the largest change of a body's first- or last-context-frame position or
            of its size (pixels); 0 when no move left every pixel unchanged (the twin
            is the truth).
    """

    scene: MotionScene
    step_px: float


def motions_of(scene: MotionScene, prompt: str) -> list[str]:
    """Each body's motion word, in the scene's order (the grammar realises the prompt's
    groups in order); a scene that does not match its prompt is a GenlabError."""
    groups = grammar.parse(prompt).groups
    words = [(g.colour, g.shape, g.motion) for g in groups for _ in range(g.count)]
    kinds = [(b.colour, b.shape) for b in scene.bodies]
    if [w[:2] for w in words] != kinds:
        raise GenlabError(f"scene bodies {kinds} do not realise the prompt {prompt!r}")
    return [w[2] for w in words]


def step_px(a: MotionScene, b: MotionScene, span: float, size: int) -> float:
    """The largest difference between ``a``'s and ``b``'s bodies in their first- and
    last-context-frame positions (free flight over ``span`` seconds) or sizes, pixels."""
    out = 0.0
    for p, q in zip(a.bodies, b.bodies, strict=True):
        first = np.hypot(p.x - q.x, p.y - q.y)
        last = np.hypot(p.x + span * p.vx - q.x - span * q.vx,
                        p.y + span * p.vy - q.y - span * q.vy)
        out = max(out, first, last, abs(p.size - q.size))
    return float(out * size)


def find_twin(scene: MotionScene, prompt: str, context: np.ndarray, fps: int,
              seed: int) -> Twin:
    """A start as far from ``scene``'s as one walk finds whose context renders exactly as
    ``context`` does: every pattern move of every body (the fields its motion word
    leaves free: first-frame position with the last held, last-frame position, size),
    in an order and with signs drawn from ``seed``, each taken as far as the pixels
    allow (bisected on a log scale within :data:`REACH_PX`) from where the walk is."""
    k, size = len(context), context.shape[1]
    if k < 2:
        raise GenlabError("a twin needs >= 2 context frames (a start and a velocity)")
    motions, span = motions_of(scene, prompt), (k - 1) / fps
    if misfit(scene, context, fps) != 0.0:
        raise GenlabError("the context is not the scene's own render")
    rng = np.random.default_rng(seed)
    steps = [(i, move) for i, motion in enumerate(motions)
             for move in pattern_moves(free_fields(motion), 1.0 / size, 1.0 / (size * span))]
    ties = tied_pairs(scene, motions)
    lo_log, hi_log = np.log(REACH_PX[0]), np.log(REACH_PX[1])
    twin = scene
    for index in rng.permutation(len(steps)):
        i, move = steps[index]
        sign = float(rng.choice([-1.0, 1.0]))

        def same(log_t: float, i: int = i, move: dict[str, float] = move,
                 sign: float = sign, base: MotionScene = twin) -> bool:
            trial = moved(base, motions, ties, i, move, sign * float(np.exp(log_t)))
            return misfit(trial, context, fps) == 0.0

        if not same(lo_log):
            continue
        lo, hi = lo_log, hi_log
        for _ in range(BISECTIONS):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if same(mid) else (lo, mid)
        twin = moved(twin, motions, ties, i, move, sign * float(np.exp(lo)))
    return Twin(twin, step_px(scene, twin, span, size))


class TwinVideo:
    """See the module docstring. Deterministic in the request's seed."""

    name = "video-twin"
    privileged = True
    version = VERSION

    def start(self, request: VideoRequest,
              resume: Mapping[str, np.ndarray] | None = None) -> SimulatorRollout:
        scene = privileged_scene(request, self.name)
        twin = find_twin(scene, request.prompt, request.context, request.fps,
                         int(request.seed))
        return continue_scene(twin.scene, request, resume)

    def describe(self) -> dict[str, Any]:
        return {"twin": {"reach_px": list(REACH_PX), "bisections": BISECTIONS,
                         "version": VERSION},
                "dynamics": "the motion world's simulator", "renderer": "shapes"}
