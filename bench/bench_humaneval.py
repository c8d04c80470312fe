"""Benchmark: the human-evaluation app under 50 concurrent simulated raters.

A synthetic store (four fake generators whose images pass the exact judge at
known rates) is served by a real ``genlab serve`` process on a loopback port.
Fifty simulated raters vote at once, each in its own thread over HTTP; on a
pair where exactly one image passed they pick it with probability ``--agree``
(else the other), and on other pairs they tie with probability 0.2 or pick a
side at random. The benchmark prints the votes cast and stored (they must be
equal: no vote lost, none counted twice), the throughput, the Bradley–Terry
ranking with its intervals (it should follow the pass rates), and the measured
judge agreement with its interval beside the simulated probability. Each fake
generator has 16 prompts x 4 images of 32x32 noise; "drawn" is the pass rate its
64 verdicts actually came out at.

    python bench/bench_humaneval.py [--raters 50] [--votes 40] [--agree 0.8] [--json]
"""

from __future__ import annotations

import argparse
import json
import platform
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from genlab.humaneval.db import connect
from genlab.humaneval.raters import add_raters
from genlab.humaneval.simulate import RaterModel, run_raters, verdicts
from genlab.humaneval.synthetic import synthetic_store

PASS_RATES = {"sharp": 0.9, "decent": 0.6, "blurry": 0.35, "noise": 0.1}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(db: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "genlab.cli", "serve", "--db", str(db),
                                 "--port", str(port), "--no-access-log"],
                                stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"genlab serve exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"genlab serve did not answer within 60 s:\n{log.read_text()}")


def run(raters: int, votes: int, agree: float, seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = synthetic_store(folder / "genlab.db", PASS_RATES, prompts=16,
                             images_per_prompt=4, seed=seed)
        con = connect(db)
        tokens = [r.token for r in add_raters(con, [f"sim-{i}" for i in range(raters)])]
        con.close()
        port = _free_port()
        proc = _start(db, port, folder / "server.log")
        url = f"http://127.0.0.1:{port}"
        try:
            start = time.perf_counter()
            cast = run_raters(url, tokens, votes, verdicts(db), RaterModel(agree=agree),
                              seed=seed)
            seconds = time.perf_counter() - start
            request = urllib.request.Request(f"{url}/api/ranking",
                                             headers={"Authorization": f"Bearer {tokens[0]}"})
            with urllib.request.urlopen(request, timeout=60) as r:
                ranking = json.load(r)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        with sqlite3.connect(db) as c:
            stored = c.execute("SELECT COUNT(*), COUNT(DISTINCT pair_id) FROM votes").fetchone()
            drawn = dict(c.execute("SELECT r.generator, AVG(s.passed) FROM samples s JOIN runs r "
                                   "ON r.id = s.run_id GROUP BY r.generator").fetchall())
    n_cast = sum(len(x) for x in cast)
    return {"raters": raters, "votes_cast": n_cast, "votes_stored": stored[0],
            "distinct_pairs_stored": stored[1], "seconds": seconds,
            "votes_per_s": n_cast / seconds, "simulated_agreement": agree,
            "pass_rates": PASS_RATES, "drawn_pass_rates": drawn, "ranking": ranking,
            "python": platform.python_version()}


def show(out: dict[str, Any]) -> None:
    print(f"raters: {out['raters']}   votes cast: {out['votes_cast']}   votes stored: "
          f"{out['votes_stored']} ({out['distinct_pairs_stored']} distinct pairs)   "
          f"lost or doubled: {out['votes_cast'] - out['votes_stored']}")
    print(f"time: {out['seconds']:.1f} s   throughput: {out['votes_per_s']:.0f} votes/s "
          "(each vote = GET /api/pair + POST /api/vote)")
    rk = out["ranking"]
    print(f"\nBradley-Terry ranking ({rk['votes']} votes, {rk['raters']} raters, 95% intervals "
          f"resampling {rk['unit']}s; ties: {rk['ties']})")
    print(f"{'generator':<10} {'pass rate (drawn)':>17} {'BT score':>9}   95% CI"
          "            wins / votes")
    for g in rk["generators"]:
        name = g["generator"]
        rates = f"{out['pass_rates'][name]:.2f} ({out['drawn_pass_rates'][name]:.2f})"
        print(f"{name:<10} {rates:>17} "
              f"{g['score']:>+9.3f}   [{g['ci_low']:+.3f}, {g['ci_high']:+.3f}]   "
              f"{g['wins']:.1f} / {g['comparisons']}")
    ja = rk["judge_agreement"]
    print(f"\njudge agreement: {ja['value']:.3f} [{ja['ci_low']:.3f}, {ja['ci_high']:.3f}] "
          f"over {ja['votes']} votes with exactly one passed image "
          f"(simulated: {out['simulated_agreement']:.3f})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--raters", type=int, default=50)
    parser.add_argument("--votes", type=int, default=40, help="votes per rater")
    parser.add_argument("--agree", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    out = run(args.raters, args.votes, args.agree, args.seed)
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        show(out)
    return 0 if out["votes_cast"] == out["votes_stored"] == out["distinct_pairs_stored"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
