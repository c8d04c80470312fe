"""Default locations of everything genlab writes, relative to the working directory.

One output folder holds the results database, the images its rows point to,
the HTML report and the trained-model cache::

    genlab-out/
        genlab.db              results (SQLite, see genlab.store)
        images/<run_id>/       one PNG per stored sample
        report.html            genlab.report.write_report
        models/                trained checkpoints (genlab train, flow on first use)

``--db PATH`` moves the database; its images and report then sit beside it, so a
database and the files it references always travel together.
"""

from __future__ import annotations

from pathlib import Path

OUT_DIR_NAME = "genlab-out"
DB_NAME = "genlab.db"
REPORT_NAME = "report.html"


def out_dir() -> Path:
    """``./genlab-out`` under the current working directory."""
    return Path.cwd() / OUT_DIR_NAME


def default_db() -> Path:
    return out_dir() / DB_NAME


def images_dir(db_path: Path, run_id: int) -> Path:
    """Where the PNGs of run ``run_id`` of the database at ``db_path`` live."""
    return db_path.parent / "images" / str(run_id)


def report_path(db_path: Path | None = None) -> Path:
    """The report beside the database (``genlab-out/report.html`` by default)."""
    return (db_path.parent if db_path is not None else out_dir()) / REPORT_NAME


def models_dir() -> Path:
    """The trained-model cache. It does not follow ``--db``: a model trained once is
    reused by every database, since training is the slow step."""
    return out_dir() / "models"
