"""Guidance rules (``flow.guidance``): each reduces to plain guidance where its paper says
it does, keeps the property it is built for, and bad specs are refused by name."""

from __future__ import annotations

import pytest
import torch

from genlab.errors import InputError
from genlab.generators.flow.guidance import CFG, GuidanceRule, apply_rule, combine, parse_rule


def _branches(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(4, 3, 8, 8, generator=g)
    v = torch.randn(8, 3, 8, 8, generator=g)
    return x, v, v.chunk(2)[0]


@pytest.mark.parametrize("t", [0.9, 0.5, 0.05])
def test_rules_reduce_to_plain_guidance(t: float) -> None:
    x, v, _ = _branches()
    plain = combine(v, 2.5)
    for rule in (CFG, parse_rule("apg:eta=1"), parse_rule("rescale:phi=0")):
        torch.testing.assert_close(apply_rule(v, 2.5, rule, x, t), plain)
    for rule in (parse_rule("apg"), parse_rule("rescale")):
        assert not torch.allclose(apply_rule(v, 2.5, rule, x, t), plain)


def test_apg_update_is_orthogonal_and_capped() -> None:
    """With eta = 0 the guided clean image moves away from the conditional one only
    orthogonally to it; with a cap r the move is at most (w - 1) r per image."""
    x, v, v_c = _branches(1)
    t, w = 0.6, 3.0
    d_c = x - t * v_c
    move = (x - t * apply_rule(v, w, parse_rule("apg:eta=0"), x, t)) - d_c
    cos = (move * d_c).flatten(1).sum(1) / (move.flatten(1).norm(dim=1)
                                             * d_c.flatten(1).norm(dim=1))
    assert cos.abs().max() < 1e-5 and move.abs().max() > 0.1
    capped = (x - t * apply_rule(v, w, parse_rule("apg:eta=1,r=0.5"), x, t)) - d_c
    assert capped.flatten(1).norm(dim=1).max() <= (w - 1) * 0.5 + 1e-5


def test_rescale_matches_the_conditional_spread() -> None:
    x, v, v_c = _branches(2)
    t = 0.7
    guided = x - t * apply_rule(v, 4.0, parse_rule("rescale:phi=1"), x, t)
    torch.testing.assert_close(guided.flatten(1).std(1), (x - t * v_c).flatten(1).std(1))
    at_zero = apply_rule(v, 4.0, parse_rule("rescale:phi=1"), x, 0.0)
    torch.testing.assert_close(at_zero, combine(v, 4.0))  # no clean image to rescale at t = 0


def test_parse_rule_round_trips_and_refuses_bad_specs() -> None:
    for spec in ("cfg", "apg:eta=0,r=0", "apg:eta=0.5,r=4", "rescale:phi=0.7"):
        assert parse_rule(spec).spec() == spec
    assert parse_rule("apg:r=2") == GuidanceRule("apg", r=2.0)
    assert parse_rule(CFG) == CFG == parse_rule(GuidanceRule("cfg", phi=0.2))
    assert parse_rule(GuidanceRule("apg", eta=0.123456789)).eta == 0.123456789
    with pytest.raises(InputError, match="unknown guidance rule 'x'"):
        parse_rule(GuidanceRule("x"))
    with pytest.raises(InputError, match="bad guidance rule parameter 'eta=-1'"):
        parse_rule(GuidanceRule("apg", eta=-1))
    with pytest.raises(InputError, match="unknown guidance rule 'apq'.*accepted: cfg; apg"):
        parse_rule("apq")
    for bad in ("apg:phi=1", "apg:eta=-1", "rescale:phi", "apg:eta=x", "cfg:eta=1",
                "apg:r=inf"):
        with pytest.raises(InputError, match="bad guidance rule parameter"):
            parse_rule(bad)
    with pytest.raises(InputError, match="guidance_rule must be"):
        parse_rule(3)
