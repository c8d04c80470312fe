"""The rating page in headless Chromium (Debian's, driven by Playwright): a rater opens
their link, sees the prompt and two images, clicks one, and the vote is in the store."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from genlab.humaneval.synthetic import PROMPTS

if TYPE_CHECKING:
    from conftest import Served

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def test_a_rater_votes_in_headless_chromium(served: Served) -> None:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (it installs Debian's "
                    "chromium package) before the human-evaluation tests")
    from playwright.sync_api import sync_playwright

    rater = served.raters[55]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            # without a token: the login form; a wrong token is refused with a message
            page.goto(served.url + "/")
            page.wait_for_selector("body[data-state=login]", timeout=15_000)
            page.fill("#token-input", "A" * 43)
            page.click("#token-form button")
            page.wait_for_selector("#status.error", timeout=15_000)
            assert "not accepted" in page.inner_text("#status")
            # the rater's link
            page.goto(f"{served.url}/#token={rater.token}")
            page.wait_for_selector("body[data-state=ready]", timeout=15_000)
            assert "token" not in page.url  # the fragment is cleared from the address bar
            prompt = page.inner_text("#prompt")
            widths = page.eval_on_selector_all(".choice img", "els => els.map(e => e.naturalWidth)")
            pair = int(page.get_attribute("body", "data-pair") or 0)
            page.click("#left")
            # a selector, not wait_for_function: the page's CSP forbids string eval
            page.wait_for_selector("#count:has-text('1 vote recorded')", timeout=15_000)
            page.wait_for_selector("body[data-state=ready]", timeout=15_000)
            next_pair = int(page.get_attribute("body", "data-pair") or 0)
            assert not errors, errors
        finally:
            browser.close()
    assert prompt in PROMPTS and widths == [32, 32] and next_pair != pair
    with sqlite3.connect(served.db) as con:
        shown = con.execute("SELECT prompt, left_sample FROM pairs WHERE id=? AND rater_id=?",
                            (pair, rater.id)).fetchone()
        votes = con.execute("SELECT pair_id, choice, winner_sample FROM votes WHERE rater_id=?",
                            (rater.id,)).fetchall()
    assert shown[0] == prompt
    assert votes == [(pair, "left", shown[1])]
