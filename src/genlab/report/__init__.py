"""The report: one self-contained HTML file written from the store alone."""

from __future__ import annotations

from genlab.report.html import render_report, write_report

__all__ = ["render_report", "write_report"]
