"""The human-evaluation web app: FastAPI, one plain HTML page, SQLite votes.

Routes (every ``/api`` route needs ``Authorization: Bearer <rater token>``,
else 401):

* ``GET /``: the rating page (``static/index.html`` and its script); the token
  comes in the link's fragment (``/#token=...``), which browsers never send.
* ``GET /api/pair``: ``{pair, prompt, left: {sample, image}, right: {...}}``: the
  rater's open pair, or a new one. Generator names and verdicts are not sent.
* ``GET /api/image/{sample_id}``: the PNG of a stored sample. The file is the one
  the store's row names, checked to lie under the database's ``images/``
  folder; no path is ever built from request text. A non-integer id is 422, an
  unknown one 404.
* ``POST /api/vote``: ``{pair, left, right, choice}`` with ``choice`` one of
  ``left``, ``right``, ``tie``: strict JSON types, no extra keys (422 naming the
  field otherwise); a pair not issued to this rater or other samples: 422; a
  different vote on an answered pair: 409. A refused vote writes nothing.
* ``GET /api/ranking?unit=rater|vote``: Bradley–Terry scores with intervals and
  the agreement with the exact judge (:mod:`genlab.humaneval.ranking`).

Request bodies over ``max_body`` bytes get 413 (:mod:`genlab.humaneval.limits`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from genlab.humaneval.db import connect
from genlab.humaneval.limits import DEFAULT_MAX_BODY, BodyLimit
from genlab.humaneval.pairs import DEFAULT_TRACK, PairPool
from genlab.humaneval.ranking import rank
from genlab.humaneval.raters import Rater, rater_for_token
from genlab.humaneval.votes import Choice, VoteConflict, VoteError, issue_pair, record_vote
from genlab.stats import DEFAULT_RESAMPLES

MAX_ID = 2**63 - 1  # SQLite's largest integer: a larger id would fail in the driver
STATIC = {"index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
          "style.css": "text/css; charset=utf-8"}
_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"), (b"cache-control", b"no-store"),
            (b"content-security-policy", b"default-src 'self'; img-src 'self' blob:; "
             b"object-src 'none'; base-uri 'none'; frame-ancestors 'none'")]
_AUTH_HELP = ("send the header 'Authorization: Bearer <token>'; tokens come from "
              "`genlab serve --raters N`")


class VoteIn(BaseModel):
    """The body of ``POST /api/vote``: the pair as shown, and the rater's choice."""

    model_config = ConfigDict(extra="forbid", strict=True)

    pair: int = Field(ge=1, le=MAX_ID, description="the pair id from GET /api/pair")
    left: int = Field(ge=1, le=MAX_ID, description="the left sample id of that pair")
    right: int = Field(ge=1, le=MAX_ID, description="the right sample id of that pair")
    choice: Choice


def _database(request: Request) -> Iterator[sqlite3.Connection]:
    """One connection per request, closed after it."""
    con = connect(request.app.state.db_path, init=False)
    try:
        yield con
    finally:
        con.close()


# Dependencies live at module level: FastAPI resolves the (string) annotations of
# ``from __future__ import annotations`` in this module's globals.
Db = Annotated[sqlite3.Connection, Depends(_database)]


def _rater(con: Db, authorization: Annotated[str | None, Header()] = None) -> Rater:
    """The rater whose token the ``Authorization: Bearer`` header carries, else 401."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if authorization is None:
        raise HTTPException(401, f"missing rater token: {_AUTH_HELP}", challenge)
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, f"malformed Authorization header: {_AUTH_HELP}", challenge)
    found = rater_for_token(con, token.strip())
    if found is None:
        raise HTTPException(401, f"unknown rater token: {_AUTH_HELP}", challenge)
    return found


Auth = Annotated[Rater, Depends(_rater)]


class _SecurityHeaders:
    """Adds :data:`_HEADERS` to every response: no sniffing, framing or caching."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(db_path: Path | str, *, track: str = DEFAULT_TRACK,
               generators: Sequence[str] | None = None, seed: int = 0,
               max_body: int = DEFAULT_MAX_BODY,
               resamples: int = DEFAULT_RESAMPLES) -> FastAPI:
    """The app over the results database at ``db_path`` (which must exist).

    Args:
        track: pairs come from the latest complete runs of this track.
        generators: only these generators (default: every one with a complete run).
        seed: fixes every rater's sequence of pairs.
        max_body: the largest request body, in bytes.
        resamples: bootstrap resamples of the ranking's intervals.
    """
    path = Path(db_path).resolve()
    connect(path).close()  # refuses a missing database; creates the tables once
    pool = PairPool.from_store(path, track, generators)
    images_root = (path.parent / "images").resolve()
    folder = resources.files("genlab.humaneval") / "static"
    static = {name: (folder / name).read_bytes() for name in STATIC}

    app = FastAPI(title="genlab human evaluation", docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.db_path = path
    app.add_middleware(BodyLimit, max_bytes=max_body)
    app.add_middleware(_SecurityHeaders)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [_problem(e) for e in exc.errors()]
        return JSONResponse(status_code=422, content={
            "detail": "invalid request: " + "; ".join(p["where"] + ": " + p["problem"]
                                                      for p in problems),
            "errors": problems})

    @app.get("/", include_in_schema=False)
    def index() -> Response:
        return Response(static["index.html"], media_type=STATIC["index.html"])

    @app.get("/static/{name}", include_in_schema=False)
    def static_file(name: str) -> Response:
        if name not in STATIC:  # a fixed list: no path is built from ``name``
            raise HTTPException(404, f"no static file {name[:80]!r}; served: "
                                f"{', '.join(STATIC)}")
        return Response(static[name], media_type=STATIC[name])

    @app.get("/api/pair")
    def pair(who: Auth, con: Db) -> dict[str, Any]:
        issued = issue_pair(con, who.id, pool, track=track, seed=seed)
        return {"pair": issued.id, "prompt": issued.prompt, "rater": who.name,
                "left": {"sample": issued.left_sample,
                         "image": f"/api/image/{issued.left_sample}"},
                "right": {"sample": issued.right_sample,
                          "image": f"/api/image/{issued.right_sample}"}}

    @app.get("/api/image/{sample_id}")
    def image(sample_id: Annotated[int, PathParam(ge=1, le=MAX_ID)], who: Auth,
              con: Db) -> FileResponse:
        row = con.execute("SELECT image_path FROM samples WHERE rowid=?",
                          (sample_id,)).fetchone()
        if row is None:
            raise HTTPException(404, f"no sample {sample_id} in the store")
        file = (path.parent / str(row[0])).resolve()
        if not file.is_relative_to(images_root) or file.suffix != ".png" or not file.is_file():
            raise HTTPException(404, f"the image of sample {sample_id} is missing")
        return FileResponse(file, media_type="image/png")

    @app.post("/api/vote")
    def vote(body: VoteIn, who: Auth, con: Db) -> dict[str, Any]:
        try:
            stored = record_vote(con, who.id, body.pair, body.left, body.right, body.choice)
        except VoteError as exc:
            raise HTTPException(422, str(exc)) from None
        except VoteConflict as exc:
            raise HTTPException(409, str(exc)) from None
        return {"recorded": stored, "pair": body.pair, "choice": body.choice}

    @app.get("/api/ranking")
    def ranking(who: Auth, con: Db, unit: Literal["rater", "vote"] = "rater") -> dict[str, Any]:
        return rank(con, track, unit=unit, resamples=resamples, seed=seed).as_dict()

    return app


def _problem(error: Any) -> dict[str, str]:
    """One pydantic error as ``{where, problem}``, the bad value shown (shortened)."""
    where = ".".join(str(p) for p in error.get("loc", ())) or "request"
    problem = str(error.get("msg", "invalid"))
    if "input" in error and error.get("type") != "missing":
        problem += f" (got {repr(error['input'])[:60]})"
    return {"where": where, "problem": problem}
