"""Run every benchmark in bench/ and print their tables (figures go to docs/results.md).

Each benchmark times genlab against a baseline in the same process and
reports the ratio, since machines here are noisy.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
BENCHES = ["bench_render.py", "bench_judge.py", "bench_train.py", "bench_sample.py"]


def main() -> int:
    failed = []
    for name in BENCHES:
        print(f"\n=== {name} ===", flush=True)
        rc = subprocess.call([sys.executable, str(HERE / name)])
        if rc != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
