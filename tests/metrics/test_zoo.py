"""The defect zoo: members, items, images and the truth the judge gives them."""

from __future__ import annotations

import numpy as np
import pytest

from genlab.errors import InputError, UnknownNameError
from genlab.judges.scene import SceneJudge
from genlab.metrics.defects import FAMILIES
from genlab.metrics.zoo import CLEAN, POOL_SIZE, Member, Zoo, members, zoo_items


@pytest.fixture(scope="module")
def zoo() -> Zoo:
    return Zoo(zoo_items("test", 3, 2, seed=5), "test", seed=5)


def _pass_rate(zoo: Zoo, member: Member) -> float:
    verdicts = SceneJudge().judge(zoo.images(member), [it.spec for it in zoo.items])
    return float(np.mean([v.passed for v in verdicts]))


def test_members_cover_every_family_and_severity() -> None:
    all_members = members()
    assert all_members[0] == Member(CLEAN, 0)
    assert len(all_members) == 1 + 4 * len(FAMILIES)
    assert [Member.parse(m.name) for m in all_members] == all_members


@pytest.mark.parametrize("name, error", [("blurr@2", UnknownNameError), ("blur@9", InputError),
                                         ("blur", InputError), ("clean@1", InputError)])
def test_bad_member_names_are_clear_errors(name: str, error: type) -> None:
    with pytest.raises(error, match="blur|clean|severity"):
        Member.parse(name)


def test_items_are_deterministic_and_cover_every_category() -> None:
    a, b = zoo_items("dev", 2, 3, seed=1), zoo_items("dev", 2, 3, seed=1)
    assert [(i.key, i.prompt, i.seed) for i in a] == [(i.key, i.prompt, i.seed) for i in b]
    assert len(a) == 7 * 2 * 3 and len({i.category for i in a}) == 7
    with pytest.raises(InputError, match="prompts_per_category"):
        zoo_items("dev", 0, 1, seed=1)


def test_every_member_renders_one_image_per_item(zoo: Zoo) -> None:
    for m in members():
        images = zoo.images(m)
        assert images.shape == (len(zoo.items), 32, 32, 3) and images.dtype == np.uint8
    assert np.array_equal(zoo.images(Member("noise", 2)), zoo.images(Member("noise", 2)))


def test_the_judge_sees_what_each_defect_does(zoo: Zoo) -> None:
    assert _pass_rate(zoo, Member(CLEAN, 0)) == 1.0
    assert _pass_rate(zoo, Member("count", 1)) == 0.0  # every image has a wrong count
    assert _pass_rate(zoo, Member("mode-collapse", 4)) == 1.0  # collapsed but right
    assert _pass_rate(zoo, Member("low-diversity", 4)) == 1.0
    assert _pass_rate(zoo, Member("prompt-ignored", 4)) < 0.3


def test_rate_families_touch_nested_sets(zoo: Zoo) -> None:
    clean = zoo.images(Member(CLEAN, 0))
    touched = [(zoo.images(Member("attribute-swap", s)) != clean).any(axis=(1, 2, 3))
               for s in (1, 2, 3, 4)]
    for milder, worse in zip(touched[:-1], touched[1:], strict=True):
        assert not (milder & ~worse).any()
    assert touched[-1].all()


def test_mode_collapse_repeats_a_prompts_first_image(zoo: Zoo) -> None:
    images = zoo.images(Member("mode-collapse", 4))
    assert np.array_equal(images, images[zoo.first_of_prompt])
    assert not np.array_equal(zoo.images(Member(CLEAN, 0)),
                              zoo.images(Member(CLEAN, 0))[zoo.first_of_prompt])


def test_memorisation_copies_train_renders(zoo: Zoo) -> None:
    images = zoo.images(Member("memorisation", 4))
    pool = zoo.pool.reshape(POOL_SIZE, -1)
    for im in images[:5]:
        assert (pool == im.reshape(1, -1)).all(axis=1).any()
