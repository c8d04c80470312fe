"""Benchmark: how well ``video-objects``'s learned simulator steps the ``motion`` world
(issue 6), apart from perception.

Part 1, one step: on one-frame transitions of ``dev``-split scenes (exact states in,
no noise), the error of the predicted next position (px) and velocity (px/s) per
body, for bodies in free flight and for bodies whose velocity a wall, the floor or
another body changed in that frame. Part 2, rollouts from the exact start of
``--scenes`` ``dev`` scenes per scenario: the mean position error (px) after 1, 3 and
10 s, and the share of bodies still in view at 10 s against the simulator's.

    python bench/bench_dynamics.py [--scenes 10]
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np
import torch

from genlab import catalog
from genlab.generators.video.objects import (
    EVENT,
    ObjectsConfig,
    Transitions,
    learned_trajectory,
)
from genlab.worlds.motion import splits
from genlab.worlds.motion.physics import State, simulate

FPS, SIZE = 30, 32


def _one_step(net: torch.nn.Module, config: ObjectsConfig) -> None:
    data = Transitions.of(dataclasses.replace(config, recover=0, scenes_per_scenario=30),
                          split="dev")
    with torch.inference_mode():
        pos, vel = net(torch.from_numpy(data.pos).float(), torch.from_numpy(data.vel).float(),
                       torch.from_numpy(data.radius).float(), torch.from_numpy(data.mask),
                       torch.from_numpy(data.gravity).float())
    pos_err = np.abs(pos.numpy() - data.next_pos).max(-1) * SIZE
    vel_err = np.abs(vel.numpy() - data.next_vel).max(-1) * SIZE
    fall = np.stack([np.zeros_like(data.gravity), data.gravity], -1)[:, None, :] / FPS
    changed = np.abs(data.next_vel - data.vel - fall).max(-1) > EVENT
    print("## One step (dev-split transitions, exact inputs)\n")
    print("| bodies | n | position px (median, p95) | velocity px/s (median, p95) |")
    print("|---|---:|---:|---:|")
    for label, sel in (("free flight", data.mask & ~changed),
                       ("a contact changed the velocity", data.mask & changed)):
        print(f"| {label} | {int(sel.sum())} | {np.median(pos_err[sel]):.4f}, "
              f"{np.percentile(pos_err[sel], 95):.4f} | {np.median(vel_err[sel]):.3f}, "
              f"{np.percentile(vel_err[sel], 95):.3f} |")
    print()


def _rollouts(net: torch.nn.Module, scenes: int) -> None:
    print("## Rollouts from the exact start (dev split)\n")
    print("| scenario | px at 1 s | px at 3 s | px at 10 s | bodies in view at 10 s "
          "(learned / simulator) |")
    print("|---|---:|---:|---:|---:|")
    n = 10 * FPS + 1
    for scenario in splits.SCENARIOS:
        errs, seen, truth_seen = [], [], []
        for item in splits.sample(scenario, "dev", scenes, seed=7):
            truth = simulate(item.scene, n, FPS)
            learned = learned_trajectory(net, item.scene, State.initial(item.scene), n)
            errs.append([float(np.linalg.norm(learned.pos[t] - truth.pos[t], axis=-1).mean())
                         * SIZE for t in (FPS, 3 * FPS, 10 * FPS)])
            seen.append(int(learned.visible()[-1].sum()))
            truth_seen.append(int(truth.visible()[-1].sum()))
        e = np.median(np.array(errs), axis=0)
        print(f"| {scenario} | {e[0]:.2f} | {e[1]:.2f} | {e[2]:.2f} | "
              f"{sum(seen)} / {sum(truth_seen)} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenes", type=int, default=10, help="dev scenes per scenario")
    args = parser.parse_args()
    generator = catalog.VIDEO_GENERATORS.get("video-objects", progress=False)
    net = generator.net  # type: ignore[attr-defined]
    torch.set_num_threads(1)  # the one-step batch too (the rollouts set it themselves)
    _one_step(net, net.config)
    _rollouts(net, args.scenes)


if __name__ == "__main__":
    main()
