"""Track ``metrics`` end to end on a tiny zoo: controls, resume, scores, bad input."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from genlab import catalog
from genlab.errors import InputError, UnknownNameError
from genlab.metrics.under_test import build
from genlab.store import Store
from genlab.tracks.metaeval import MetricsTrack
from genlab.tracks.metaeval_data import MetricsConfig
from genlab.tracks.metaeval_scores import family_severity, misses
from genlab.tracks.runner import plan

TINY = MetricsConfig.smoke()  # its data is cached in the session's model cache, shared
# with the shared suite's run of this track (tests/test_components.py)


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory, model_cache: Path
        ) -> tuple[Store, Path, dict[str, dict]]:
    root = tmp_path_factory.mktemp("metrics")
    store = Store(root / "genlab.db")
    cards = {}
    for name in ("truth", "random", "fid", "anchored", "combined"):
        card = MetricsTrack().run(name, build(name), store, "smoke", config=TINY,
                                  cache_dir=model_cache)
        cards[name] = {r.category: r for r in card.records}
    return store, model_cache, cards


def test_the_positive_control_agrees_with_the_truth(ran: tuple) -> None:
    cards = ran[2]
    assert cards["truth"]["spearman_truth"].value == pytest.approx(1.0)
    assert cards["truth"]["kendall_truth"].value == pytest.approx(1.0)
    assert cards["truth"]["spearman_truth"].n == 13  # clean + 3 families x 4


def test_every_metric_has_the_issue_categories(ran: tuple) -> None:
    for name, card in ran[2].items():
        for cat in ("spearman_truth", "kendall_truth", "spearman_severity",
                    "dev/spearman_truth", "ci_width_n160"):
            assert cat in card, (name, cat)
            r = card[cat]
            assert r.ci_low <= r.ci_high
    assert "ci_width_n50" not in ran[2]["fid"]  # FID cannot score n <= d
    assert "ci_width_n50" in ran[2]["anchored"]


def test_a_finished_run_is_reused(ran: tuple) -> None:
    store, cache, cards = ran
    again = MetricsTrack().run("truth", build("truth"), store, "smoke", config=TINY,
                               cache_dir=cache)
    assert {r.category: r.value for r in again.records} == \
        {c: r.value for c, r in cards["truth"].items()}
    assert len([r for r in store.latest_runs("metrics") if r.generator == "truth"]) == 1


def test_misses_name_the_families_a_metric_cannot_see(ran: tuple) -> None:
    store = ran[0]
    run = next(r for r in store.latest_runs("metrics") if r.generator == "truth")
    rows = [{**s["details"], "name": s["prompt_id"]} for s in store.samples(run.id)
            if s["split"] == "test"]
    per = family_severity(rows, "higher")
    assert per["count"] > 0.5 and per["blur"] > 0.9
    assert misses(rows, "higher") == ["mode-collapse"]  # it harms no image


def test_the_combined_metric_must_be_fitted_first() -> None:
    from genlab.errors import GenlabError

    with pytest.raises(GenlabError, match="dev zoo"):
        build("combined").value(None, None, seed=0)  # type: ignore[arg-type]


def test_bad_configs_and_names_are_clear_errors() -> None:
    with pytest.raises(UnknownNameError, match="blur"):
        replace(TINY, families=("blurr",))
    with pytest.raises(InputError, match="stability_sizes"):
        replace(TINY, stability_sizes=(100_000,))
    with pytest.raises(UnknownNameError, match="fid"):
        build("fidd")
    with pytest.raises(InputError, match="metric"):
        plan(["metrics"], ["flow"])
    assert plan(["metrics"], ["fid"]) == [("metrics", ["fid", *catalog.METRIC_CONTROLS])]


def test_the_runner_hands_the_track_its_model_cache(tmp_path: Path, model_cache: Path) -> None:
    from genlab.tracks.runner import run_tracks

    store = Store(tmp_path / "r.db")
    cards = run_tracks(store, ["metrics"], ["anchored"], profile="smoke",
                       cache_dir=model_cache, progress=False)
    assert [c.generator for c in cards] == ["anchored", *catalog.METRIC_CONTROLS]
    assert not (tmp_path / "genlab-out").exists()


def test_the_report_shows_scatters_misses_and_findings(ran: tuple) -> None:
    from genlab.report.html import render_report

    html = render_report(ran[0])
    for text in ("track metrics", "metric vs truth", "what each metric misses",
                 "claims, measured", "FID ", "count@4"):
        assert text in html, text


def _rows(values: dict[str, tuple[float, float]]) -> list[dict]:
    out = []
    for name, (value, truth) in values.items():
        fam, _, sev = name.partition("@")
        out.append({"name": name, "family": fam, "severity": int(sev or 0), "value": value,
                    "correctness": truth})
    return out


def test_scores_orient_lower_is_better_metrics() -> None:
    from genlab.tracks.metaeval_scores import severity_score, truth_scores

    rows = _rows({"clean": (0.0, 1.0), "blur@1": (1.0, 0.9), "blur@2": (2.0, 0.5),
                  "blur@3": (3.0, 0.2), "blur@4": (4.0, 0.1)})
    lower = {r["category"]: r for r in truth_scores(rows, "lower", "", resamples=1000,
                                                      seed=0)}
    higher = {r["category"]: r for r in truth_scores(rows, "higher", "", resamples=1000,
                                                       seed=0)}
    assert lower["spearman_truth"]["value"] == pytest.approx(1.0)
    assert higher["spearman_truth"]["value"] == pytest.approx(-1.0)
    assert severity_score(rows, "lower", resamples=1000, seed=0)["value"] == pytest.approx(1.0)


def test_findings_count_inversions_against_the_truth() -> None:
    from genlab.tracks.metaeval_findings import findings, inversions

    # FID (lower is better) likes blur@1 more than clean although clean is right
    rows = _rows({"clean": (2.0, 1.0), "blur@1": (1.0, 0.5), "count@1": (3.0, 0.0)})
    share, n, other, m = inversions(rows, "lower", "blur")
    assert (share, n) == (0.5, 2) and (other, m) == (0.0, 1)
    assert findings({"fid": ("lower", rows)})[0].startswith("FID prefers blur")
