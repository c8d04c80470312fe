"""A real server (uvicorn, loopback): 50 concurrent raters lose no vote and count none
twice; raw traversal paths and chunked oversize bodies are refused on the wire."""

from __future__ import annotations

import http.client
import json
import sqlite3
import time
from collections import Counter
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from genlab.humaneval.simulate import RaterModel, run_raters, verdicts

if TYPE_CHECKING:
    from conftest import Served

VOTES_EACH = 10


def test_fifty_concurrent_raters_lose_no_vote(served: Served) -> None:
    raters = served.raters[:50]
    start = time.perf_counter()
    cast = run_raters(served.url, [r.token for r in raters], VOTES_EACH, verdicts(served.db),
                      RaterModel(agree=0.8), seed=0)
    seconds = time.perf_counter() - start
    expected = {(pair, r.id) for r, pairs in zip(raters, cast, strict=True) for pair in pairs}
    assert len(expected) == 50 * VOTES_EACH
    last = raters[-1].id  # the fixture's raters 1..50
    with sqlite3.connect(served.db) as con:
        rows = con.execute("SELECT pair_id, rater_id FROM votes WHERE rater_id <= ?",
                           (last,)).fetchall()
        open_pairs = con.execute("SELECT COUNT(*) FROM pairs p LEFT JOIN votes v ON "
                                 "v.pair_id = p.id WHERE v.id IS NULL AND p.rater_id <= ?",
                                 (last,)).fetchone()[0]
    counts = Counter(rows)
    assert set(counts) == expected and max(counts.values()) == 1
    assert open_pairs == 0  # every issued pair was answered
    print(f"{len(rows)} votes by 50 raters in {seconds:.1f} s")  # shown with -s


def test_a_resent_vote_is_stored_once(served: Served) -> None:
    rater = served.raters[50]
    url = urlsplit(served.url)
    con = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    auth = {"Authorization": f"Bearer {rater.token}", "Content-Type": "application/json"}
    con.request("GET", "/api/pair", headers=auth)
    pair = json.loads(con.getresponse().read())
    body = json.dumps({"pair": pair["pair"], "left": pair["left"]["sample"],
                       "right": pair["right"]["sample"], "choice": "tie"})
    answers = []
    for _ in range(3):
        con.request("POST", "/api/vote", body=body, headers=auth)
        answers.append(json.loads(con.getresponse().read())["recorded"])
    assert answers == [True, False, False]
    with sqlite3.connect(served.db) as db:
        assert db.execute("SELECT COUNT(*) FROM votes WHERE pair_id=?",
                          (pair["pair"],)).fetchone()[0] == 1


def test_raw_paths_and_chunked_bodies_are_refused(served: Served) -> None:
    rater = served.raters[51]
    url = urlsplit(served.url)
    auth = {"Authorization": f"Bearer {rater.token}"}
    # http.client sends the path as written: no client-side folding of ../
    for path in ("/api/image/../../genlab.db", "/api/image/..%2F..%2Fgenlab.db",
                 "/static/../../genlab.db", "/static/..%2F..%2Fhumaneval%2Fapp.py",
                 "/../genlab.db", "/api/image/1%00.png", "/api/image/%2e%2e"):
        con = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        con.request("GET", path, headers=auth)
        r = con.getresponse()
        body = r.read()
        assert r.status in (400, 404, 422), (path, r.status)
        assert b"SQLite format" not in body and b"import" not in body
        con.close()
    con = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    chunks = iter([b"x" * 1024] * 8)  # 8 KiB, chunked: no Content-Length to trust
    con.request("POST", "/api/vote", body=chunks, encode_chunked=True,
                headers=auth | {"Content-Type": "application/json"})
    r = con.getresponse()
    assert r.status == 413, r.read()
    con.close()
