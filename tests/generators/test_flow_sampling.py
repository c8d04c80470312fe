"""ODE samplers of ``flow``: step counts, exactness on linear flows, errors."""

from __future__ import annotations

import pytest
import torch

from genlab.errors import InputError, UnknownNameError
from genlab.generators.flow.sampling import CALLS_PER_STEP, SAMPLERS, get_sampler, sample, time_grid


@pytest.mark.parametrize("name", SAMPLERS.names())
@pytest.mark.parametrize("steps", [1, 2, 7])
def test_step_and_call_counts(name: str, steps: int) -> None:
    calls, seen = [], []
    target = torch.full((2, 3, 4, 4), 0.25)

    def velocity(x: torch.Tensor, t: float) -> torch.Tensor:
        calls.append(t)
        return x - target  # the rectified-flow velocity of a point mass at `target`... scaled

    x1 = torch.randn(2, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    out = sample(name, velocity, x1, steps, callback=seen.append)
    assert len(seen) == steps and [s["i"] for s in seen] == list(range(steps))
    assert len(calls) == steps * CALLS_PER_STEP[name]
    assert seen[-1]["t_next"] == 0.0 and out.shape == x1.shape and torch.isfinite(out).all()


@pytest.mark.parametrize("name", SAMPLERS.names())
def test_straight_path_is_exact(name: str) -> None:
    """For a constant velocity (a perfectly straight flow) every sampler is exact."""
    x0 = torch.randn(1, 3, 4, 4, generator=torch.Generator().manual_seed(1))
    eps = torch.randn(1, 3, 4, 4, generator=torch.Generator().manual_seed(2))
    out = sample(name, lambda x, t: eps - x0, eps, 3)
    torch.testing.assert_close(out, x0)


def test_second_order_beats_euler() -> None:
    """dx/dt = x from t=1 to 0: x(0) = x(1) e^-1; every higher-order sampler errs less
    than a third of euler's at 8 steps."""
    x1 = torch.ones(1, 1, 1, 1)
    exact = torch.exp(torch.tensor(-1.0))
    err = {n: float((sample(n, lambda x, t: x, x1, 8) - exact).abs()) for n in SAMPLERS.names()}
    assert all(err[n] < err["euler"] / 3 for n in SAMPLERS.names() if n != "euler"), err


@pytest.mark.parametrize("bad", [0, -3, 1.5, True])
def test_bad_steps(bad: object) -> None:
    with pytest.raises(InputError, match="steps"):
        time_grid(bad)  # type: ignore[arg-type]


def gaussian_velocity(mu: float, s: float):  # type: ignore[no-untyped-def]
    """The exact rectified-flow velocity of data N(mu, s^2): E[eps - x0 | x_t]."""

    def v(x: torch.Tensor, t: float) -> torch.Tensor:
        var = (1 - t) ** 2 * s**2 + t**2
        return t / var * (x - (1 - t) * mu) - mu - (1 - t) * s**2 / var * (x - (1 - t) * mu)

    return v


@pytest.mark.parametrize("name", ["dpmpp-2m", "dpmpp-3m", "unipc"])
def test_diffusers_schedulers_converge(name: str) -> None:
    """DPM-Solver++ and UniPC through diffusers on the exact flow of Gaussian data,
    whose ODE maps x1 to mu + s x1: the error falls over 4x from 8 to 32 steps, ends
    under a third of Euler's, and a scheduler's state never leaks between calls."""
    v, x1 = gaussian_velocity(0.5, 0.1), torch.full((1, 1, 1, 1), 1.3)
    exact = 0.5 + 0.1 * 1.3
    e8, e32, euler32 = (float((sample(n, v, x1, k) - exact).abs())
                        for n, k in ((name, 8), (name, 32), ("euler", 32)))
    assert e32 < e8 / 4 and e32 < euler32 / 3, (e8, e32, euler32)
    assert float((sample(name, v, x1, 8) - exact).abs()) == e8


def test_grid_and_typo() -> None:
    assert time_grid(4) == [1.0, 0.75, 0.5, 0.25, 0.0]
    with pytest.raises(UnknownNameError, match="heun"):
        get_sampler("huen")
