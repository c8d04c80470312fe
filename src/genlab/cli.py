"""The ``genlab`` command line (Typer + rich).

    genlab run [TRACK ...] [--generator NAME ...] [--profile smoke|default] [--db PATH]
    genlab scores [--json]        genlab report [-o PATH]       genlab list
    genlab train                  genlab generate "PROMPT" -o out.png
    genlab judge IMAGE --prompt "PROMPT"                         genlab judge-check
    genlab serve [--raters N] [--track T] [--port 8000]          (human evaluation)

Every :class:`~genlab.errors.GenlabError` is caught here, at the boundary, and
printed as one red line (exit code 2, no traceback).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from genlab import catalog, paths
from genlab.errors import GenlabError, InputError, check_int
from genlab.worlds.shapes.spec import Box

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="genlab: open problems of generative image models, with exact judges.")
out = Console()
err = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])

DbOpt = Annotated[Path | None, typer.Option("--db", help="results database "
                                            "(default ./genlab-out/genlab.db)")]
ProfileOpt = Annotated[str, typer.Option("--profile", "-p", help="smoke or default")]
BoxOpt = Annotated[list[str] | None, typer.Option(
    "--box", help="layout box x0,y0,x1,y1 in image fractions; once per object")]


def friendly(fn: F) -> F:
    """Turn a GenlabError into one red line and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GenlabError as exc:
            err.print(f"[bold red]error:[/bold red] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def _db(db: Path | None) -> Path:
    return db if db is not None else paths.default_db()


def _open_store(db: Path | None, *, must_exist: bool = False) -> Any:
    from genlab.store import Store

    path = _db(db)
    if must_exist and not path.is_file():
        raise InputError(f"no results database at {path}; run `genlab run` first or pass --db")
    return Store(path)


def parse_boxes(values: Sequence[str] | None) -> tuple[Box, ...] | None:
    """``["x0,y0,x1,y1", ...]`` to boxes (``None`` if none given)."""
    if not values:
        return None
    boxes = []
    for v in values:
        try:
            x0, y0, x1, y1 = (float(t) for t in v.split(","))
        except ValueError:
            raise InputError(f"bad --box {v!r}: expected four comma-separated numbers "
                             "x0,y0,x1,y1 in [0, 1]") from None
        boxes.append(Box(x0, y0, x1, y1))
    return tuple(boxes)


def _cell(r: dict[str, Any] | None) -> str:
    if r is None:
        return "–"
    return f"{r['value']:.3f} [dim][{r['ci_low']:.2f}, {r['ci_high']:.2f}][/dim]"


def _summary(records: list[dict[str, Any]]) -> None:
    """One table per track: the headline categories of its test split (dev if none), or
    for a track with ``summary`` columns, one row per generator over those columns."""
    for track in sorted({r["track"] for r in records}):
        recs = [r for r in records if r["track"] == track]
        columns = getattr(catalog.TRACKS.get(track), "summary", None) \
            if track in catalog.TRACKS else None
        if callable(columns):  # columns that depend on what was measured
            columns = columns(recs)
        if columns:
            _row_table(track, recs, columns)
            continue
        split = "test" if any(r["category"].startswith("test/") for r in recs) else "dev"
        cats = list(dict.fromkeys(r["category"] for r in recs
                                  if r["category"].startswith(split + "/")
                                  and "/n=" not in r["category"]))
        cats.sort(key=lambda c: not c.endswith("/overall"))
        gens = list(dict.fromkeys(r["generator"] for r in recs))
        table = Table(title=f"{track} ({split} split, 95% CI)")
        table.add_column("category")
        for g in gens:
            table.add_column(g, justify="right")
        index = {(r["generator"], r["category"]): r for r in recs}
        for c in cats:
            table.add_row(c, *(_cell(index.get((g, c))) for g in gens))
        out.print(table)


def _row_table(track: str, recs: list[dict[str, Any]],
               columns: Sequence[tuple[str, str]]) -> None:
    index = {(r["generator"], r["category"]): r for r in recs}
    table = Table(title=f"{track} (95% CI)")
    # the whole name, folded if it must be: settings differ only in their tails
    table.add_column("generator", overflow="fold", min_width=12)
    for _, header in columns:
        table.add_column(header, justify="right")
    for g in dict.fromkeys(r["generator"] for r in recs):
        table.add_row(g, *(_cell(index.get((g, c))) for c, _ in columns))
    out.print(table)


@app.command()
@friendly
def run(
    tracks: Annotated[list[str] | None, typer.Argument(help="tracks (default: all)")] = None,
    generator: Annotated[list[str] | None, typer.Option(
        "--generator", "-g", help="generators, image or video (default: each track's "
        "kind's defaults, catalog.DEFAULT_GENERATORS / DEFAULT_VIDEO_GENERATORS)")] = None,
    profile: ProfileOpt = "default",
    db: DbOpt = None,
    fresh: Annotated[bool, typer.Option(help="start new runs even if identical ones exist")
                     ] = False,
) -> None:
    """Run tracks on generators (controls always beside), then write the report."""
    from genlab.report import write_report
    from genlab.tracks.runner import check_profile, plan, run_tracks

    check_profile(profile)
    plan(tracks, generator)  # fail on a typo before opening or training anything
    with _open_store(db) as store:
        cards = run_tracks(store, tracks, generator, profile=profile,
                           cache_dir=paths.models_dir(), fresh=fresh, progress=True)
        report = write_report(store, paths.report_path(store.path))
    _summary([r.as_dict() for card in cards for r in card.records])
    out.print(f"report: {report}")


@app.command()
@friendly
def scores(
    db: DbOpt = None,
    track: Annotated[str | None, typer.Option(help="only this track")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON list of records")] = False,
) -> None:
    """Scores of the latest complete run of every (track, generator)."""
    with _open_store(db, must_exist=True) as store:
        records = store.scores(track)
    if as_json:
        typer.echo(json.dumps(records, indent=1))
        return
    table = Table("track", "generator", "category", "value", "95% CI", "n")
    for r in records:
        table.add_row(r["track"], r["generator"], r["category"], f"{r['value']:.3f}",
                      f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]", str(r["n"]))
    out.print(table)


@app.command()
@friendly
def report(
    db: DbOpt = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="HTML file "
                                                "(default: report.html beside the db)")] = None,
) -> None:
    """Write the self-contained HTML report from the store."""
    from genlab.report import write_report

    with _open_store(db, must_exist=True) as store:
        path = write_report(store, output or paths.report_path(store.path))
    out.print(f"report: {path}")


@app.command()
@friendly
def train(
    profile: ProfileOpt = "default",
    out_dir: Annotated[Path | None, typer.Option("--out", help="checkpoint folder")] = None,
    resume: Annotated[bool, typer.Option(help="resume from the last checkpoint")] = True,
    model: Annotated[str, typer.Option(
        help="which model: base (flow), grounded (flow-grounded's grounding maps), "
             "counting (flow-counting's counting-aware loss) or latent (flow-latent: "
             "its autoencoder, then the flow on its latents)")] = "base",
) -> None:
    """Train a flow model (cached; resumes unless --no-resume)."""
    from genlab.tracks.runner import check_profile

    check_profile(profile)
    try:
        from genlab.generators.flow.entry import profile_config
        from genlab.generators.flow.train import run_dir
        from genlab.generators.flow.train import train as train_flow
    except ImportError as exc:
        raise GenlabError(f"the flow trainer is not available: {exc}") from exc
    config = profile_config(profile, model)
    # the folder the flow generator's cache looks in (flow.train.ensure_trained)
    folder = out_dir or run_dir(config, paths.models_dir())
    train_flow(config, folder, resume=resume, progress=True)
    out.print(f"model: {folder}")


@app.command()
@friendly
def generate(
    prompt: Annotated[str, typer.Argument(help="an English prompt of the shapes world")],
    output: Annotated[Path, typer.Option("--output", "-o", help="PNG to write")],
    generator: Annotated[str, typer.Option("--generator", "-g")] = "flow",
    seed: int = 0,
    size: int = 32,
    box: BoxOpt = None,
    profile: ProfileOpt = "default",
) -> None:
    """Generate one image for PROMPT."""
    from genlab.store import write_png_atomic
    from genlab.tracks.runner import build_generator, check_profile

    check_profile(profile)
    catalog.GENERATORS.factory(generator)
    gen = build_generator(generator, profile=profile, cache_dir=paths.models_dir(),
                          progress=True)
    images = gen.generate([prompt], [seed], boxes=[parse_boxes(box)], size=size).images
    output.parent.mkdir(parents=True, exist_ok=True)
    write_png_atomic(images[0], output)
    out.print(f"image: {output}")


def load_image(path: Path) -> np.ndarray:
    """Any image file as ``(H, W, 3) uint8`` RGB."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"), dtype=np.uint8)
    except (OSError, UnidentifiedImageError) as exc:
        raise InputError(f"cannot read image {str(path)!r}: {exc}") from exc


@app.command()
@friendly
def judge(
    image: Annotated[Path, typer.Argument(help="an image file (PNG, ...)")],
    prompt: Annotated[str, typer.Option(help="the prompt the image should satisfy")],
    box: BoxOpt = None,
) -> None:
    """Judge IMAGE against PROMPT; prints the verdict as JSON."""
    from genlab.worlds.shapes import grammar

    spec = grammar.parse(prompt, parse_boxes(box))
    pixels = load_image(image)
    verdict = _scene_judge().judge(pixels[None], [spec])[0]
    typer.echo(json.dumps({"passed": bool(verdict.passed), "reason": verdict.reason,
                           "details": verdict.details}, default=str, indent=1))


def _scene_judge() -> Any:
    try:
        from genlab.judges.scene import SceneJudge
    except ImportError as exc:
        raise GenlabError(f"the scene judge is not available: {exc}") from exc
    return SceneJudge()


@app.command("judge-check")
@friendly
def judge_check(
    n: Annotated[int, typer.Option(help="scenes per (size, condition)")] = 100,
    sizes: Annotated[str, typer.Option(help="comma-separated image sizes")] = "32,64",
    seed: int = 0,
    as_json: Annotated[bool, typer.Option("--json", help="JSON list of records")] = False,
) -> None:
    """How often the judge reads rendered scenes back exactly, per size and condition."""
    try:
        size_list = tuple(int(s) for s in sizes.split(","))
    except ValueError:
        raise InputError(f"bad --sizes {sizes!r}: expected comma-separated ints") from None
    try:
        from genlab.judges.validate import judge_check as check
    except ImportError as exc:
        raise GenlabError(f"the judge validation is not available: {exc}") from exc
    def show(record: dict[str, Any]) -> None:  # progress on stderr: stdout stays clean
        err.print(f"size {record['size']} {record['condition']}: "
                  f"{record['scene_exact']:.3f}", soft_wrap=True)

    records = check(n, sizes=size_list, seed=seed, progress=None if as_json else show)
    if as_json:
        typer.echo(json.dumps(records, indent=1, default=str))
        return
    table = Table("size", "condition", "n", "scene exact")
    for r in records:
        table.add_row(str(r["size"]), str(r["condition"]), str(r["n"]),
                      f"{r['scene_exact']:.3f}")
    out.print(table)


@app.command("list")
@friendly
def list_components() -> None:
    """The registered generators, metrics, judges, tracks and worlds."""
    controls = {*catalog.CONTROLS, *catalog.VIDEO_CONTROLS, *catalog.METRIC_CONTROLS}
    for reg in (catalog.GENERATORS, catalog.VIDEO_GENERATORS, catalog.METRICS, catalog.JUDGES,
                catalog.TRACKS, catalog.WORLDS):
        names = [f"{n} (control)" if n in controls else n for n in reg.names()]
        out.print(f"[bold]{reg.kind}s[/bold]: {escape(', '.join(names) or '(none)')}",
                  soft_wrap=True)  # one line per kind: names are never broken


LOOPBACK = ("127.0.0.1", "localhost", "::1")


@app.command()
@friendly
def serve(
    db: DbOpt = None,
    host: Annotated[str, typer.Option(help="address to bind; loopback by default")
                    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    track: Annotated[str, typer.Option(help="pairs come from this track's latest runs")
                     ] = "control",
    generator: Annotated[list[str] | None, typer.Option(
        "--generator", "-g", help="only these generators (default: every one with a "
        "complete run on the track)")] = None,
    raters: Annotated[int, typer.Option(
        help="create N raters first and print their tokens and links (shown once: only "
             "their hashes are stored)")] = 0,
    no_serve: Annotated[bool, typer.Option(
        "--no-serve", help="only create the --raters tokens, then exit")] = False,
    seed: Annotated[int, typer.Option(help="fixes every rater's sequence of pairs")] = 0,
    max_body: Annotated[int, typer.Option(help="largest request body in bytes (413 above)")
                        ] = 4096,
    access_log: Annotated[bool, typer.Option(help="log every request")] = True,
) -> None:
    """Serve the human-evaluation app: raters pick the better of two images of a prompt.

    Raters need tokens: `genlab serve --raters 5` creates five, prints one line per
    rater (name, token, link to open) and serves; add --no-serve to only create
    them. Votes are stored in the results database (tables raters, pairs, votes);
    GET /api/ranking gives the Bradley-Terry ranking and the agreement with the
    exact judge.
    """
    if not 1 <= port <= 65535:
        raise InputError(f"bad --port {port}; accepted: 1 to 65535")
    check_int("--max-body", max_body, low=256)
    check_int("--raters", raters, low=0)
    if no_serve and not raters:
        raise InputError("--no-serve only makes sense with --raters N (N >= 1)")
    path = _db(db)
    # build the app first: a missing database or track fails before any token is made
    web = None if no_serve else _build_app(path, track=track, generators=generator,
                                           seed=seed, max_body=max_body)
    if raters:
        _print_tokens(path, raters, f"http://{host}:{port}")
    if web is None:
        return
    import uvicorn

    if host not in LOOPBACK:
        err.print(f"[yellow]warning:[/yellow] serving on {escape(host)}: tokens and votes "
                  "travel unencrypted; put a TLS proxy in front", soft_wrap=True)
    uvicorn.run(web, host=host, port=port, access_log=access_log, server_header=False,
                log_level="info")


def _print_tokens(path: Path, n: int, base_url: str) -> None:
    """Create ``n`` raters named rater-<k> and print ``name<TAB>token<TAB>link`` each."""
    from genlab.humaneval.db import connect
    from genlab.humaneval.raters import add_raters, count_raters

    con = connect(path)
    try:
        first = count_raters(con) + 1
        made = add_raters(con, [f"rater-{first + i}" for i in range(n)])
    finally:
        con.close()
    for r in made:
        typer.echo(f"{r.name}\t{r.token}\t{base_url}/#token={r.token}")


def _build_app(path: Path, **options: Any) -> Any:
    """The human-evaluation app over the database at ``path``."""
    try:
        import uvicorn  # noqa: F401  (checked here, used by serve)

        from genlab.humaneval.app import create_app
    except ImportError as exc:
        raise GenlabError(f"the human-evaluation app needs fastapi and uvicorn: {exc}") from exc
    return create_app(path, **options)

if __name__ == "__main__":
    app()
