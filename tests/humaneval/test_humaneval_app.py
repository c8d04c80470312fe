"""The web app in process (FastAPI's TestClient): tokens, validation, size limit, paths.

Every refused request is checked to have written nothing."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from genlab.humaneval.app import create_app
from genlab.humaneval.limits import BodyLimit
from genlab.humaneval.raters import NewRater


@pytest.fixture
def client(store: tuple[Path, list[NewRater]]) -> TestClient:
    return TestClient(create_app(store[0], resamples=1000))


def _auth(rater: NewRater) -> dict[str, str]:
    return {"Authorization": f"Bearer {rater.token}"}


def _count(db: Path, table: str = "votes") -> int:
    with sqlite3.connect(db) as con:
        return int(con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def test_page_and_static_files_with_safe_headers(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert '<script src="/static/app.js">' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert client.get("/static/app.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/static/style.css").status_code == 200
    for bad in ("/static/..%2Fapp.py", "/static/%2e%2e", "/static/..%2F..%2Fstore.py",
                "/static/db.py", "/static/%2Fetc%2Fpasswd"):
        assert client.get(bad).status_code == 404, bad


@pytest.mark.parametrize("method, url", [("GET", "/api/pair"), ("GET", "/api/image/1"),
                                         ("POST", "/api/vote"), ("GET", "/api/ranking")])
def test_every_api_route_needs_a_token(client: TestClient, store: tuple[Path, list[NewRater]],
                                       method: str, url: str) -> None:
    body = {"pair": 1, "left": 1, "right": 2, "choice": "left"}
    for headers in ({}, {"Authorization": store[1][0].token},  # no scheme
                    {"Authorization": "Basic " + store[1][0].token},
                    {"Authorization": "Bearer " + "A" * 43}, {"Authorization": "Bearer "}):
        r = client.request(method, url, headers=headers, json=body)
        assert r.status_code == 401, (headers, r.text)
        assert "Bearer <token>" in r.json()["detail"]
        assert r.headers["www-authenticate"] == "Bearer"
    assert _count(store[0], "pairs") == 0 and _count(store[0]) == 0


def test_pair_image_vote_and_ranking(client: TestClient, store: tuple[Path, list[NewRater]]
                                     ) -> None:
    db, raters = store
    pair = client.get("/api/pair", headers=_auth(raters[0])).json()
    assert set(pair) == {"pair", "prompt", "rater", "left", "right"}  # no generator, no verdict
    png = client.get(pair["left"]["image"], headers=_auth(raters[0]))
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    body = {"pair": pair["pair"], "left": pair["left"]["sample"],
            "right": pair["right"]["sample"], "choice": "right"}
    first = client.post("/api/vote", headers=_auth(raters[0]), json=body)
    assert first.status_code == 200 and first.json()["recorded"] is True
    again = client.post("/api/vote", headers=_auth(raters[0]), json=body)
    assert again.status_code == 200 and again.json()["recorded"] is False
    changed = client.post("/api/vote", headers=_auth(raters[0]), json=body | {"choice": "left"})
    assert changed.status_code == 409 and "already has the vote 'right'" in changed.text
    assert _count(db) == 1
    ranking = client.get("/api/ranking", headers=_auth(raters[1])).json()
    assert ranking["votes"] == 1 and len(ranking["generators"]) == 2
    assert {"generator", "score", "ci_low", "ci_high", "comparisons", "wins"} == \
        set(ranking["generators"][0])
    assert client.get("/api/ranking?unit=prompt", headers=_auth(raters[1])).status_code == 422


def _malformed(pair: dict[str, Any]) -> list[tuple[Any, str]]:
    """(body, words the 422 must contain) of votes that must be refused."""
    ok = {"pair": pair["pair"], "left": pair["left"]["sample"],
          "right": pair["right"]["sample"], "choice": "left"}
    return [
        ({}, "body.pair: Field required"),
        (ok | {"choice": "up"}, "body.choice: Input should be 'left', 'right' or 'tie'"),
        (ok | {"choice": None}, "body.choice"),
        (ok | {"pair": str(ok["pair"])}, "body.pair: Input should be a valid integer"),
        (ok | {"pair": True}, "body.pair"),
        (ok | {"left": 1.5}, "body.left"),
        (ok | {"pair": -1}, "greater than or equal to 1"),
        (ok | {"pair": 2**70}, "less than or equal to"),
        (ok | {"extra": 1}, "body.extra: Extra inputs are not permitted"),
        (ok | {"left": ok["right"], "right": ok["left"]}, "showed samples"),
        (ok | {"pair": ok["pair"] + 1000}, "not issued to this rater"),
        ([ok], "valid dictionary"),
        ("{not json", "JSON"),
    ]


def test_malformed_votes_get_422_and_write_nothing(client: TestClient,
                                                   store: tuple[Path, list[NewRater]]) -> None:
    db, raters = store
    pair = client.get("/api/pair", headers=_auth(raters[0])).json()
    for body, words in _malformed(pair):
        content = body if isinstance(body, str) else json.dumps(body)
        r = client.post("/api/vote", content=content,
                        headers=_auth(raters[0]) | {"Content-Type": "application/json"})
        assert r.status_code == 422, (body, r.text)
        assert words in r.json()["detail"], (words, r.json())
    # another rater's pair is not yours
    mine = client.get("/api/pair", headers=_auth(raters[1])).json()
    r = client.post("/api/vote", headers=_auth(raters[0]), json={
        "pair": mine["pair"], "left": mine["left"]["sample"], "right": mine["right"]["sample"],
        "choice": "tie"})
    assert r.status_code == 422 and "not issued to this rater" in r.text
    assert _count(db) == 0


def test_oversize_body_gets_413_and_writes_nothing(client: TestClient,
                                                   store: tuple[Path, list[NewRater]]) -> None:
    db, raters = store
    pair = client.get("/api/pair", headers=_auth(raters[0])).json()
    body = {"pair": pair["pair"], "left": pair["left"]["sample"],
            "right": pair["right"]["sample"], "choice": "left", "pad": "x" * 5000}
    r = client.post("/api/vote", headers=_auth(raters[0]), json=body)
    assert r.status_code == 413 and "4096" in r.json()["detail"]
    assert client.post("/api/vote", headers=_auth(raters[0]) | {"Content-Length": "x"},
                       content=b"{}").status_code in (400, 413)
    assert _count(db) == 0


def _asgi(app: Any, headers: list[tuple[bytes, bytes]], chunks: list[bytes]
          ) -> tuple[int, bool]:
    """Drive an ASGI app with a body in ``chunks``; (status, whether the app ran)."""
    ran = False
    sent: list[dict[str, Any]] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        nonlocal ran
        ran = True
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def main() -> None:
        queue = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
                 for i, c in enumerate(chunks)]

        async def receive() -> dict[str, Any]:
            return queue.pop(0) if queue else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
        await app(inner)(scope, receive, send)

    asyncio.run(main())
    return int(sent[0]["status"]), ran


def test_body_limit_counts_bytes_not_content_length() -> None:
    limit = lambda inner: BodyLimit(inner, max_bytes=100)  # noqa: E731
    assert _asgi(limit, [], [b"x" * 60, b"x" * 40]) == (200, True)
    assert _asgi(limit, [], [b"x" * 60, b"x" * 41]) == (413, False)  # chunked, no length
    assert _asgi(limit, [(b"content-length", b"10")], [b"x" * 50] * 3) == (413, False)  # lies
    assert _asgi(limit, [(b"content-length", b"101")], [b"x"]) == (413, False)
    assert _asgi(limit, [(b"content-length", b"-5")], [b"x"]) == (400, False)


@pytest.mark.parametrize("url, status", [
    ("/api/image/..%2F..%2Fgenlab.db", 404), ("/api/image/%2e%2e", 422),
    ("/api/image/../../genlab.db", 404),  # the client folds the dots: /genlab.db
    ("/api/image/-1", 422), ("/api/image/1.png", 422), ("/api/image/0x1", 422),
    ("/api/image/99999999999999999999999", 422), ("/api/image/999999", 404),
    ("/api/image/%2Fetc%2Fpasswd", 404),
])
def test_image_paths_cannot_escape(client: TestClient, store: tuple[Path, list[NewRater]],
                                   url: str, status: int) -> None:
    r = client.get(url, headers=_auth(store[1][0]))
    assert r.status_code == status, r.text
    assert "image/png" not in r.headers.get("content-type", "")


def test_a_tampered_image_path_is_not_served(client: TestClient,
                                             store: tuple[Path, list[NewRater]]) -> None:
    db, raters = store
    with sqlite3.connect(db) as con:
        con.execute("UPDATE samples SET image_path='../../../etc/passwd' WHERE rowid=1")
        con.execute("UPDATE samples SET image_path='genlab.db' WHERE rowid=2")
        row = con.execute("SELECT image_path FROM samples WHERE rowid=3").fetchone()
    (db.parent / row[0]).unlink()
    for sample in (1, 2, 3):
        r = client.get(f"/api/image/{sample}", headers=_auth(raters[0]))
        assert r.status_code == 404 and "is missing" in r.text
    assert client.get("/api/image/4", headers=_auth(raters[0])).status_code == 200
