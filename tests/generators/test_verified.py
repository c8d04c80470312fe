"""Best-of-N with a learned verifier (issue 3 method 3), and the rule that the
verifier is never the scoring judge."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import torch

import genlab
from genlab.errors import InputError, ParseError
from genlab.generators.controls import OracleGenerator, RandomSceneGenerator
from genlab.generators.verified import VerifiedGenerator, candidate_seed
from genlab.generators.verifier import (
    KIND_INDEX,
    KINDS,
    CountNet,
    VerifierConfig,
    density_targets,
    ensure_verifier,
    score,
    scores,
)
from genlab.worlds.shapes.arrays import SceneArrays
from genlab.worlds.shapes.spec import Box, Scene, SceneObject

SRC = Path(genlab.__file__).parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


def test_the_verifier_never_imports_a_judge() -> None:
    for name in ("verifier.py", "verified.py"):
        assert not any(m.startswith("genlab.judges") for m in _imports(SRC / "generators" / name))


def _density(objects: list[tuple[str, str, float, float]]) -> torch.Tensor:
    """The ideal density of a scene of (colour, shape, x, y) objects of side 0.2."""
    scene = Scene("white", tuple(SceneObject(s, c, x, y, 0.2) for c, s, x, y in objects))
    return density_targets(SceneArrays.from_scenes([scene]), 16)[0]


def test_density_targets_sum_to_the_counts() -> None:
    d = _density([("red", "circle", 0.2, 0.2), ("red", "circle", 0.7, 0.7),
                  ("blue", "square", 0.2, 0.7)])
    counts = d.sum(dim=(1, 2))
    assert counts[KIND_INDEX[("red", "circle")]] == pytest.approx(2.0)
    assert counts[KIND_INDEX[("blue", "square")]] == pytest.approx(1.0)
    assert float(counts.sum()) == pytest.approx(3.0) and len(KINDS) == 18


def test_the_score_prefers_the_scene_the_prompt_asks_for() -> None:
    left = _density([("red", "circle", 0.25, 0.5), ("blue", "square", 0.75, 0.5)])
    right = _density([("red", "circle", 0.75, 0.5), ("blue", "square", 0.25, 0.5)])
    prompt = "a red circle to the left of a blue square"
    assert score(left, prompt, None) == pytest.approx(0.0, abs=1e-6)
    assert score(right, prompt, None) < score(left, prompt, None)
    assert score(left, "a red circle", None) < 0  # the blue square is not asked for
    assert score(left, "two red circles", None) < 0
    neg = "a circle and no blue objects"
    assert score(_density([("red", "circle", 0.5, 0.5)]), neg, None) == pytest.approx(0, abs=1e-6)
    assert score(_density([("blue", "circle", 0.5, 0.5)]), neg, None) < 0
    inside = (Box(0.15, 0.4, 0.35, 0.6), Box(0.65, 0.4, 0.85, 0.6))
    outside = (Box(0.65, 0.4, 0.85, 0.6), Box(0.15, 0.4, 0.35, 0.6))
    both = "a red circle and a blue square"
    assert score(left, both, inside) > score(left, both, outside)
    with pytest.raises(ParseError):
        score(left, "a blorp circle", None)


@pytest.fixture(scope="module")
def verifier(tmp_path_factory: pytest.TempPathFactory) -> CountNet:
    return ensure_verifier(VerifierConfig.smoke(), tmp_path_factory.mktemp("v"), progress=False)


def test_best_of_n_keeps_the_verifiers_favourite(verifier: CountNet, monkeypatch) -> None:
    # the scoring judge must not run during generation: any call is a failure
    import genlab.judges.detect as detect
    import genlab.judges.scene as scene

    def forbidden(*_a, **_k):
        raise AssertionError("the scoring judge was used as the verifier")

    monkeypatch.setattr(detect, "detect_batch", forbidden)
    monkeypatch.setattr(scene.SceneJudge, "judge", forbidden)
    prompts, seeds = ["a red circle", "two blue squares"], [3, 4]
    inner = RandomSceneGenerator()
    gen = VerifiedGenerator(inner, verifier, VerifierConfig.smoke(), 3, name="v")
    out = gen.generate(prompts, seeds)
    cands = inner.generate([p for p in prompts for _ in range(3)],
                           [candidate_seed(s, k) for s in seeds for k in range(3)]).images
    sc = np.array(scores(verifier, cands, [p for p in prompts for _ in range(3)],
                         [None] * 6)).reshape(2, 3)
    for i in range(2):
        assert np.array_equal(out.images[i], cands[i * 3 + int(sc[i].argmax())])
    assert "verifier" in out.timings


def test_one_candidate_is_the_inner_generator(verifier: CountNet) -> None:
    inner = OracleGenerator()
    gen = VerifiedGenerator(inner, verifier, VerifierConfig.smoke(), 1, name="v")
    boxes = [(Box(0.1, 0.1, 0.4, 0.4),)]
    assert np.array_equal(gen.generate(["a red circle"], [5], boxes=boxes).images,
                          inner.generate(["a red circle"], [5], boxes=boxes).images)
    assert candidate_seed(5, 0) == 5 and candidate_seed(5, 1) != candidate_seed(5, 2)


def test_bad_input_is_a_clear_error(verifier: CountNet) -> None:
    with pytest.raises(InputError, match="n .candidates"):
        VerifiedGenerator(OracleGenerator(), verifier, VerifierConfig.smoke(), 0, name="v")
    with pytest.raises(InputError, match="width"):
        VerifierConfig(width=0)
