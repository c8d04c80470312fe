"""The registries of genlab, filled by explicit imports (STYLE.md: one registry mechanism).

Components never register themselves; this module is the one list of what
exists, so ``genlab --help``, the shared test suite and the CLI all see the
same set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from genlab.contracts import Generator, Judge, VideoGenerator
from genlab.errors import InputError, UnknownNameError, suggest
from genlab.generators.controls import OracleGenerator, RandomSceneGenerator
from genlab.registry import Registry

GENERATORS: Registry[Generator] = Registry("generator")
VIDEO_GENERATORS: Registry[VideoGenerator] = Registry("video generator")
JUDGES: Registry[Judge] = Registry("judge")
WORLDS: Registry[Any] = Registry("world")
TRACKS: Registry[Any] = Registry("track")
METRICS: Registry[Any] = Registry("metric")

# Which generators are controls (scored beside every generator) and which are
# the default models `genlab run` evaluates.
CONTROLS: tuple[str, ...] = ("oracle", "random-scene")
DEFAULT_GENERATORS: tuple[str, ...] = ("flow", "flow-grounded")
# The same for video generators (tracks whose ``inputs`` is "video").
VIDEO_CONTROLS: tuple[str, ...] = ("video-oracle", "video-twin", "video-member",
                                   "frozen-frame", "random-motion")
# Controls that are neither the positive nor a negative one: ``video-twin`` is the
# protocol's predictability limit, which can score as the positive control does, and
# ``video-member`` a reader that knows the context's set of starts exactly.
LIMIT_CONTROLS: tuple[str, ...] = ("video-twin", "video-member")
DEFAULT_VIDEO_GENERATORS: tuple[str, ...] = ("video-state", "video-objects", "video-physics")
# The metrics under test of the ``metrics`` track (its inputs are "metric"), and its
# controls: the exact judge itself and a random number.
METRIC_CONTROLS: tuple[str, ...] = ("truth", "random")
DEFAULT_METRICS: tuple[str, ...] = ("fid", "kid", "precision", "recall", "density",
                                    "coverage", "cmmd", "alignment", "anchored", "combined")


def _oracle(**_: Any) -> Generator:
    return OracleGenerator()


def _random_scene(**_: Any) -> Generator:
    return RandomSceneGenerator()


def _flow(*, profile: str = "default", cache_dir: Path | None = None, progress: bool = True,
          **options: Any) -> Generator:
    """The trained text-to-image baseline; trains and caches on first use."""
    from genlab.generators.flow.entry import load_flow

    return load_flow(profile=profile, cache_dir=cache_dir, progress=progress, **options)


def _flow_planned(*, profile: str = "default", cache_dir: Path | None = None,
                  progress: bool = True, **options: Any) -> Generator:
    """``flow`` behind the grammar's layout planner (LMD analog, issue 3): boxes for
    every plannable prompt, drawn through the model's box-mask channels."""
    from genlab.generators.flow.entry import load_flow
    from genlab.generators.planned import PlannedGenerator

    inner = load_flow(profile=profile, cache_dir=cache_dir, progress=progress, **options)
    if not inner.config.box_channels:
        raise InputError(f"flow-planned needs a flow model with box_channels > 0; the "
                         f"{profile!r} profile has none")
    return PlannedGenerator(inner, inner.config.box_channels, name="flow-planned")


def _flow_composed(*, profile: str = "default", cache_dir: Path | None = None,
                   progress: bool = True, **options: Any) -> Generator:
    """The ``flow`` baseline with composable guidance (Composable Diffusion, issue 3):
    AND over a prompt's object groups, NOT for its negation; the same checkpoint."""
    from genlab.generators.flow.entry import load_flow

    gen = load_flow(profile=profile, cache_dir=cache_dir, progress=progress, compose=True,
                    **options)
    gen.name = "flow-composed"
    return gen


def _flow_grounded(*, profile: str = "default", cache_dir: Path | None = None,
                   progress: bool = True, **options: Any) -> Generator:
    """A ``flow`` model trained with grounding maps, behind the whole-scene planner
    (LMD + GLIGEN analog, issue 3); trains and caches its own model on first use."""
    from genlab.generators.flow.entry import load_flow
    from genlab.generators.planned import GroundedGenerator

    inner = load_flow(profile=profile, cache_dir=cache_dir, progress=progress,
                      model="grounded", **options)
    return GroundedGenerator(inner, name="flow-grounded")


def _flow_verified(*, profile: str = "default", cache_dir: Path | None = None,
                   progress: bool = True, n: int = 4, **options: Any) -> Generator:
    """``flow`` drawn ``n`` times per prompt, a learned verifier keeping the best
    (best-of-N over initial noise, issue 3); trains and caches the verifier first."""
    from genlab import paths
    from genlab.generators.flow.entry import load_flow
    from genlab.generators.verified import VerifiedGenerator
    from genlab.generators.verifier import VerifierConfig, ensure_verifier

    inner = load_flow(profile=profile, cache_dir=cache_dir, progress=progress, **options)
    vconfig = VerifierConfig.smoke() if profile == "smoke" else VerifierConfig()
    net = ensure_verifier(vconfig, Path(cache_dir or paths.models_dir()), progress=progress)
    return VerifiedGenerator(inner, net, vconfig, n, name="flow-verified")


def _flow_counting(*, profile: str = "default", cache_dir: Path | None = None,
                   progress: bool = True, **options: Any) -> Generator:
    """A ``flow`` model trained with the counting-aware auxiliary loss (issue 3); trains
    and caches its counter (the verifier's CountNet) and its own model on first use."""
    from genlab.generators.flow.entry import load_flow

    gen = load_flow(profile=profile, cache_dir=cache_dir, progress=progress, model="counting",
                    **options)
    gen.name = "flow-counting"
    return gen


def _flow_latent(*, profile: str = "default", cache_dir: Path | None = None,
                 progress: bool = True, **options: Any) -> Generator:
    """``flow`` on a learned latent space (latent diffusion, issue 4's latent variant):
    a small VAE and a TAESD-style tiny decoder trained here, then the default backbone
    on their 8x8x8 latents; its images are decoded by ``decoder`` ``vae`` (default) or
    ``tiny``, timed as the ``decode`` stage. Trains and caches both on first use."""
    from genlab.generators.flow.entry import load_flow

    gen = load_flow(profile=profile, cache_dir=cache_dir, progress=progress, model="latent",
                    **options)
    gen.name = "flow-latent"
    return gen


def _flow_attend(*, profile: str = "default", cache_dir: Path | None = None,
                 progress: bool = True, mode: str = "excite", strength: float = 0.003,
                 until: float = 0.5, **options: Any) -> Generator:
    """The ``flow`` baseline with training-free attention guidance on its
    cross-attention maps (Attend-and-Excite / layout backward guidance, issue 3):
    ``mode`` ``excite`` lifts each object word's attention peak, ``box`` steers it into
    the planner's boxes. No setting beat the unguided baseline's dev mean (the
    baseline's cross-attention is blind to position; bench/bench_attention.py,
    docs/results.md); the default is the strongest that did not lower it."""
    from genlab.generators.flow.attention import AttentionGuidance
    from genlab.generators.flow.entry import load_flow

    gen = load_flow(profile=profile, cache_dir=cache_dir, progress=progress,
                    attention=AttentionGuidance(mode, strength, until), **options)
    gen.name = "flow-attend"
    return gen


def _flow_reflow(*, profile: str = "default", cache_dir: Path | None = None,
                 progress: bool = True, compile: bool | str = False, **options: Any) -> Generator:
    """A few-step student of ``flow`` (issue 4): reflow on the teacher's guided couples
    (Liu et al., 2022) with one-step distillation and CFG folded in (Meng et al., 2023);
    2 Euler steps, one backbone pass each. Made and cached on first use (about 23
    minutes on 2 cores). ``compile``: its backbone through ``torch.compile``."""
    from genlab import paths
    from genlab.generators.flow.entry import load_flow
    from genlab.generators.flow.reflow import ReflowConfig, load_student

    teacher = load_flow(profile=profile, cache_dir=cache_dir, progress=progress)
    config = ReflowConfig.smoke() if profile == "smoke" else ReflowConfig()
    gen = load_student(teacher, config, Path(cache_dir or paths.models_dir()),
                       progress=progress, compile=compile, **options)
    gen.name = "flow-reflow-compiled" if compile else "flow-reflow"
    return gen


def _unless_smoke(kwargs: dict[str, Any], how: bool | str) -> bool | str:
    """A compiled generator's ``compile`` option: ``how``, except in the smoke profile,
    where compiling alone would take longer than the whole smoke pipeline (eager)."""
    return how if kwargs.get("profile", "default") != "smoke" else False


def _flow_reflow_compiled(**kwargs: Any) -> Generator:
    """``flow-reflow`` with its backbone through ``torch.compile`` (an engineering lever
    of issue 4: the same images up to float rounding, each new batch shape compiled
    once, about a minute on 2 cores). The smoke profile stays eager: compiling alone
    takes longer than the whole smoke pipeline (a slow test checks the compiled images;
    ``describe()`` says which one ran)."""
    return _flow_reflow(compile=_unless_smoke(kwargs, True), **kwargs)


def _distilled(method: str, name: str, steps: int, sampler: str, *, profile: str = "default",
               cache_dir: Path | None = None, progress: bool = True,
               **options: Any) -> Generator:
    from genlab import paths
    from genlab.generators.flow.distill import DistillConfig, load_student
    from genlab.generators.flow.entry import load_flow

    teacher = load_flow(profile=profile, cache_dir=cache_dir, progress=progress)
    config = DistillConfig.smoke(method) if profile == "smoke" else DistillConfig(method=method)
    options = {"steps": steps, "sampler": sampler, **options}
    gen = load_student(teacher, config, Path(cache_dir or paths.models_dir()),
                       progress=progress, **options)
    gen.name = name
    return gen


def _flow_guidance_distilled(**kwargs: Any) -> Generator:
    """``flow`` with classifier-free guidance distilled into its weights (Meng et al.,
    2023; issue 4): the teacher's 8 AB2 steps at one backbone pass each instead of a
    batch of two. Made and cached on first use."""
    return _distilled("guidance", "flow-guidance-distilled", 8, "ab2", **kwargs)


def _flow_guidance_distilled_compiled(**kwargs: Any) -> Generator:
    """``flow-guidance-distilled`` with its backbone through ``torch.compile`` (the
    smoke profile stays eager, as ``flow-reflow-compiled``'s does)."""
    return _distilled("guidance", "flow-guidance-distilled-compiled", 8, "ab2",
                      compile=_unless_smoke(kwargs, True), **kwargs)


def _flow_guidance_distilled_aot(**kwargs: Any) -> Generator:
    """``flow-guidance-distilled`` with its backbone compiled ahead of time (AOTInductor,
    generators/flow/aot.py: no dynamo guards, no Python between kernels; one package per
    input shape, compiled on first use and cached beside the student). The smoke
    profile stays eager, as the ``-compiled`` generators' does."""
    return _distilled("guidance", "flow-guidance-distilled-aot", 8, "ab2",
                      compile=_unless_smoke(kwargs, "aot"), **kwargs)


def _flow_consistency(**kwargs: Any) -> Generator:
    """A consistency-distilled student of ``flow`` on its guided ODE (Song et al., 2023;
    Luo et al., 2023, LCM; issue 4): 4 Euler steps at guidance 1. Made and cached on
    first use."""
    return _distilled("consistency", "flow-consistency", 4, "euler", **kwargs)


def _shapes(**_: Any) -> Any:
    from genlab.worlds.shapes.world import ShapesWorld

    return ShapesWorld()


def _scene_judge(**_: Any) -> Judge:
    from genlab.judges.scene import SceneJudge

    return SceneJudge()


WORLDS.register("shapes", _shapes)
JUDGES.register("scene", _scene_judge)
GENERATORS.register("oracle", _oracle)
GENERATORS.register("random-scene", _random_scene)
GENERATORS.register("flow", _flow)
GENERATORS.register("flow-planned", _flow_planned)
GENERATORS.register("flow-grounded", _flow_grounded)
GENERATORS.register("flow-composed", _flow_composed)
GENERATORS.register("flow-verified", _flow_verified)
GENERATORS.register("flow-attend", _flow_attend)
GENERATORS.register("flow-counting", _flow_counting)
GENERATORS.register("flow-latent", _flow_latent)
GENERATORS.register("flow-reflow", _flow_reflow)
GENERATORS.register("flow-reflow-compiled", _flow_reflow_compiled)
GENERATORS.register("flow-guidance-distilled", _flow_guidance_distilled)
GENERATORS.register("flow-guidance-distilled-compiled", _flow_guidance_distilled_compiled)
GENERATORS.register("flow-guidance-distilled-aot", _flow_guidance_distilled_aot)
GENERATORS.register("flow-consistency", _flow_consistency)


def _video_control(cls_name: str) -> Any:
    def build(**_: Any) -> VideoGenerator:
        from genlab.generators.video import controls

        return getattr(controls, cls_name)()  # type: ignore[no-any-return]

    build.__doc__ = f"The video control ``{cls_name}`` (generators/video/controls.py)."
    return build


def _video_twin(**_: Any) -> VideoGenerator:
    """The simulator from a start whose context renders exactly as the truth's
    (generators/video/twin.py): where it leaves the truth's path, no generator shown
    the context can be sure of it."""
    from genlab.generators.video.twin import TwinVideo

    return TwinVideo()


def _video_member(*, profile: str = "default", **_: Any) -> VideoGenerator:
    """The simulator from a start drawn from the set of starts whose context renders
    exactly as perception's reading (generators/video/member.py): what a reader who
    knows that set, but not the truth, would read. Perception as ``video-physics``'
    of the same profile."""
    from genlab.generators.video.member import MemberVideo

    return MemberVideo(refine=profile != "smoke")


def _learned_video(kind: str) -> Any:
    def build(*, profile: str = "default", cache_dir: Path | None = None,
              progress: bool = True, **options: Any) -> VideoGenerator:
        from genlab.generators.video.entry import load_video_generator

        return load_video_generator(kind, profile=profile, cache_dir=cache_dir,
                                    progress=progress, **options)

    build.__doc__ = (f"The learned video generator ``{kind}`` (generators/video/learned.py); "
                     "trains and caches its model on first use.")
    return build


def _video_state(*, profile: str = "default", cache_dir: Path | None = None,
                 progress: bool = True, **_: Any) -> VideoGenerator:
    """Context compression into a learned recurrent state, trained free-running
    (generators/video/recurrent.py); trains and caches its model on first use."""
    from genlab.generators.video.recurrent import load_state_generator

    return load_state_generator(profile=profile, cache_dir=cache_dir, progress=progress)


def _video_physics(*, profile: str = "default", **_: Any) -> VideoGenerator:
    """Perception, the world's simulator and its renderer (PhysGen's pipeline;
    generators/video/grounded.py): the ceiling of a generator that sees the context.
    The smoke profile skips render-and-compare (the detector's estimate only)."""
    from genlab.generators.video.grounded import PhysicsVideo

    return PhysicsVideo(refine=profile != "smoke")


def _video_objects(*, profile: str = "default", cache_dir: Path | None = None,
                   progress: bool = True, **_: Any) -> VideoGenerator:
    """Perception, a learned interaction-network simulator and the world's renderer
    (generators/video/objects.py); trains and caches its model on first use."""
    from genlab.generators.video.objects import load_objects_generator

    return load_objects_generator(profile=profile, cache_dir=cache_dir, progress=progress)


VIDEO_GENERATORS.register("video-ar", _learned_video("video-ar"))
VIDEO_GENERATORS.register("diffusion-forcing", _learned_video("diffusion-forcing"))
VIDEO_GENERATORS.register("fifo", _learned_video("fifo"))
VIDEO_GENERATORS.register("video-state", _video_state)
VIDEO_GENERATORS.register("video-physics", _video_physics)
VIDEO_GENERATORS.register("video-objects", _video_objects)
VIDEO_GENERATORS.register("video-oracle", _video_control("SimulatorVideo"))
VIDEO_GENERATORS.register("video-twin", _video_twin)
VIDEO_GENERATORS.register("video-member", _video_member)
VIDEO_GENERATORS.register("frozen-frame", _video_control("FrozenFrameVideo"))
VIDEO_GENERATORS.register("random-motion", _video_control("RandomMotionVideo"))


def _metric(name: str) -> Any:
    def build(**_: Any) -> Any:
        from genlab.metrics.under_test import build as build_metric

        return build_metric(name)

    build.__doc__ = f"The metric ``{name}`` under test (metrics/under_test.py)."
    return build


for _name in (*DEFAULT_METRICS, *METRIC_CONTROLS):
    METRICS.register(_name, _metric(_name))


def generator_kind(name: str) -> str:
    """``"image"``, ``"video"`` or ``"metric"``: which registry holds generator ``name``
    (an unknown name is an UnknownNameError listing every registry's names)."""
    if name in GENERATORS:
        return "image"
    if name in VIDEO_GENERATORS:
        return "video"
    if name in METRICS:
        return "metric"
    known = [*GENERATORS.names(), *VIDEO_GENERATORS.names(), *METRICS.names()]
    raise UnknownNameError(f"unknown generator {name!r}; known: {', '.join(known)}."
                           + suggest(name, known))


def _control(**_: Any) -> Any:
    """Track ``control``: counting, position, binding, negation, layout (exact judge)."""
    from genlab.tracks.control import ControlTrack

    return ControlTrack()


def _realtime(**_: Any) -> Any:
    """Track ``realtime``: latency per stage, throughput and accuracy per sampling setting."""
    from genlab.tracks.realtime import RealtimeTrack

    return RealtimeTrack()


def _longvideo(**_: Any) -> Any:
    """Track ``longvideo``: identity, count, colour and position drift over minutes of
    generated video, generation fps and peak memory per duration (tracking judge)."""
    from genlab.tracks.longvideo import LongVideoTrack

    return LongVideoTrack()


TRACKS.register("control", _control)
TRACKS.register("realtime", _realtime)
TRACKS.register("longvideo", _longvideo)


def _metrics(**_: Any) -> Any:
    """Track ``metrics``: how well each automatic metric (FID, KID, precision/recall,
    density/coverage, CMMD, alignment, genlab's anchored metric) agrees with exact
    correctness over a zoo of graded defects."""
    from genlab.tracks.metaeval import MetricsTrack

    return MetricsTrack()


TRACKS.register("metrics", _metrics)

_names = [*GENERATORS.names(), *VIDEO_GENERATORS.names(), *METRICS.names()]
if len(set(_names)) != len(_names):  # one name space for `--generator`
    raise RuntimeError("a name is registered in two of the image, video and metric "
                       f"registries: {sorted({n for n in _names if _names.count(n) > 1})}")
