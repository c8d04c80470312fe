"""Benchmark: does a ``flow`` config train the same model at other commits, on other
instruction sets, with other packages?

For each ``--revisions`` entry (a git revision; ``WORKTREE`` is the working tree as it
is), checks the revision out into a temporary git worktree and, with this environment's
packages (plus ``--pythonpath`` folders in front, for other package versions) and its
source on ``PYTHONPATH``, trains ``FlowConfig.default()`` with ``--overrides`` for
``--steps`` steps through the real training loop (data-parallel workers, checkpoints,
EMA) in a temporary folder; prints the SHA-256 of the weights and the EMA weights and the
last loss-curve row. ``--isa avx2`` runs it on torch's AVX2 kernels
(``ATEN_CPU_CAPABILITY`` and ``ONEDNN_MAX_CPU_ISA``), as on a CPU without AVX512.
``--checkpoint`` also samples 16 images from that checkpoint at each revision and prints
their hash (the sampling side). Equal hashes: the same model, byte for byte.

    python bench/training_drift.py --revisions b6ab5d7 bacd01c WORKTREE \\
        --overrides "{'exact_head_dim': True, 'cross_attention_levels': (False, True, True)}" \\
        [--steps 120] [--isa default avx2] [--checkpoint genlab-out/models/flow-<key>]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from genlab.machine import AVX2_KERNELS

ROOT = Path(__file__).resolve().parents[1]

TRAIN = """
import dataclasses, hashlib, pathlib, sys, importlib
from genlab.generators.flow import FlowConfig
train = importlib.import_module("genlab.generators.flow.train")
if __name__ == "__main__":
    over, out, steps = eval(sys.argv[1]), pathlib.Path(sys.argv[2]), int(sys.argv[3])
    c = dataclasses.replace(FlowConfig.default(), **over, train_steps=steps,
                            checkpoint_every=max(1, steps // 2))
    ck = pathlib.Path(train.train(c, out, resume=False, progress=False))
    sums = {f.stem: hashlib.sha256(f.read_bytes()).hexdigest()[:12]
            for f in sorted(ck.glob("*.safetensors"))}
    print(sums.get("model"), sums.get("ema"), (out / "curve.csv").read_text().split()[-1])
"""

SAMPLE = """
import hashlib, sys, torch
torch.set_num_threads(2)
from genlab.generators.flow import FlowGenerator
prompts = ["a purple triangle", "two red squares and a green circle",
           "a red circle to the left of a blue square", "three circles and no red objects"]
images = FlowGenerator(sys.argv[1]).generate(prompts * 4, list(range(16))).images
print(hashlib.sha256(images.tobytes()).hexdigest()[:12])
"""

ISA = {"default": {}, "avx2": AVX2_KERNELS}


def _run(code: str, args: list[str], src: Path, extra: list[str], isa: str) -> str:
    env = {**os.environ, **ISA[isa],
           "PYTHONPATH": os.pathsep.join([*extra, str(src)])}
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "job.py"
        script.write_text(code)
        done = subprocess.run([sys.executable, str(script), *args], env=env, cwd=tmp,
                              capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"failed ({src}, isa {isa}):\n{done.stderr[-2000:]}")
    return done.stdout.strip().splitlines()[-1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--revisions", nargs="+", default=["WORKTREE"])
    ap.add_argument("--overrides", default="{}", help="FlowConfig fields, a dict literal")
    ap.add_argument("--steps", type=int, default=120)
    ap.add_argument("--isa", nargs="+", choices=sorted(ISA), default=["default"])
    ap.add_argument("--pythonpath", nargs="*", default=[],
                    help="folders put before the source (other package versions)")
    ap.add_argument("--checkpoint", default=None,
                    help="also hash 16 images sampled from this checkpoint at each revision")
    args = ap.parse_args()
    ckpt = None if args.checkpoint is None else str(Path(args.checkpoint).resolve())
    print(f"FlowConfig.default() with {args.overrides}, {args.steps} training steps\n")
    print("| revision | isa | model | ema | last curve row (step, loss, img/s, s) |"
          + (" images |" if ckpt else ""))
    print("|---|---|---|---|---|" + ("---|" if ckpt else ""))
    for rev in args.revisions:
        with tempfile.TemporaryDirectory() as tmp:
            if rev == "WORKTREE":
                src = ROOT / "src"
            else:
                tree = Path(tmp) / "tree"
                subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q",
                                str(tree), rev], check=True)
                src = tree / "src"
            try:
                for isa in args.isa:
                    model, ema, row = _run(TRAIN, [args.overrides, str(Path(tmp) / "run"),
                                                   str(args.steps)],
                                           src, args.pythonpath, isa).split()
                    images = f" {_run(SAMPLE, [ckpt], src, args.pythonpath, isa)} |" \
                        if ckpt else ""
                    print(f"| {rev} | {isa} | {model} | {ema} | {row} |{images}", flush=True)
            finally:
                if rev != "WORKTREE":
                    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                    str(tree)], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
