"""Benchmark: how well ``video-objects``'s learned simulator steps the ``motion`` world
(issue 6), apart from perception.

Part 1, one frame: on one-frame transitions of ``dev``-split scenes (exact states in,
no noise), the error of the predicted next position (px) and velocity (px/s) per
body, for bodies in free flight and for bodies whose velocity a wall, the floor or
another body changed in that frame, and those by what was near (a side wall, the
floor, another body, or several at once: contacts that chain within the frame). Part
2, rollouts from the exact start of ``--scenes`` ``dev`` scenes per scenario: the mean
position error (px) after 1, 3 and 10 s, and the share of bodies still in view at 10 s
against the simulator's.

With ``--variants``, each ``ObjectsConfig`` variant (the default with fields replaced,
a dict literal) is trained on first use and cached like the default (its training
seconds printed), and measured the same way, after the default model.

    python bench/bench_dynamics.py [--scenes 10] [--variants "{'substeps': 4}" ...]
"""

from __future__ import annotations

import argparse
import ast
import dataclasses

import numpy as np
import torch

from genlab import catalog, paths
from genlab.generators.video.dynamics import Dynamics, ObjectsConfig, learned_trajectory
from genlab.generators.video.objects import EVENT, Transitions, ensure_trained, load
from genlab.worlds.motion import splits
from genlab.worlds.motion.physics import State, simulate

FPS, SIZE = 30, 32


def _near(data: Transitions) -> dict[str, np.ndarray]:
    """``(T, N) bool`` per kind of contact a body could meet within the frame: within
    1.5 frames' travel (plus 1e-3) of a side wall, of the floor (gravity on), or of
    another body."""
    r, x, y = data.radius, data.pos[..., 0], data.pos[..., 1]
    travel = np.abs(data.vel).max(-1) / FPS * 1.5 + 1e-3
    gap = (np.linalg.norm(data.pos[:, :, None] - data.pos[:, None], axis=-1)
           - r[:, :, None] - r[:, None] + np.eye(r.shape[1]) * 9)
    gap = np.where(data.mask[:, :, None] & data.mask[:, None], gap, 9.0)
    return {"wall": np.minimum(x - r, 1 - r - x) < travel,
            "floor": (1 - r - y < travel) & (data.gravity[:, None] > 0),
            "body": gap.min(-1) < 2 * travel}


def _one_step(net: Dynamics, data: Transitions) -> None:
    with torch.inference_mode():
        pos, vel = torch.from_numpy(data.pos).float(), torch.from_numpy(data.vel).float()
        for _ in range(net.config.substeps):
            pos, vel = net(pos, vel, torch.from_numpy(data.radius).float(),
                           torch.from_numpy(data.mask), torch.from_numpy(data.gravity).float())
    pos_err = np.abs(pos.numpy() - data.next_pos).max(-1) * SIZE
    vel_err = np.abs(vel.numpy() - data.next_vel).max(-1) * SIZE
    fall = np.stack([np.zeros_like(data.gravity), data.gravity], -1)[:, None, :] / FPS
    changed = data.mask & (np.abs(data.next_vel - data.vel - fall).max(-1) > EVENT)
    near = _near(data)
    several = (near["wall"].astype(int) + near["floor"] + near["body"]) > 1
    print("## One frame (dev-split transitions, exact inputs)\n")
    print("| bodies | n | position px (median, p95) | velocity px/s (median, p90, p95) |")
    print("|---|---:|---:|---:|")
    rows = [("free flight", data.mask & ~changed), ("a contact changed the velocity", changed),
            ("... near a side wall only", changed & near["wall"] & ~several),
            ("... near the floor only", changed & near["floor"] & ~several),
            ("... near another body only", changed & near["body"] & ~several),
            ("... near several at once", changed & several)]
    for label, sel in rows:
        if not sel.any():
            continue
        print(f"| {label} | {int(sel.sum())} | {np.median(pos_err[sel]):.4f}, "
              f"{np.percentile(pos_err[sel], 95):.4f} | {np.median(vel_err[sel]):.3f}, "
              f"{np.percentile(vel_err[sel], 90):.3f}, {np.percentile(vel_err[sel], 95):.3f} |")
    print()


def _rollouts(net: Dynamics, scenes: int) -> None:
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
    parser.add_argument("--variants", nargs="*", default=[],
                        help="ObjectsConfig fields to replace, dict literals")
    args = parser.parse_args()
    generator = catalog.VIDEO_GENERATORS.get("video-objects", progress=False)
    nets: list[tuple[str, Dynamics]] = [("default", generator.net)]  # type: ignore[attr-defined]
    for text in args.variants:
        config = dataclasses.replace(ObjectsConfig(), **ast.literal_eval(text))
        net, meta = load(ensure_trained(config, paths.models_dir(), progress=True))
        print(f"variant {text}: key {config.key()}, trained in "
              f"{meta.get('train_seconds', float('nan')):.0f} s, final loss "
              f"{meta.get('final_loss', float('nan')):.4f}")
        nets.append((text, net))
    torch.set_num_threads(1)  # the one-step batch too (the rollouts set it themselves)
    data = Transitions.of(ObjectsConfig(recover=0, scenes_per_scenario=30), split="dev")
    for name, net in nets:
        print(f"\n# {name}\n")
        _one_step(net, data)
        _rollouts(net, args.scenes)


if __name__ == "__main__":
    main()
