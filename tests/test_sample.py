"""The synthetic sample data set: determinism, variant coverage, calibration, readability.

Uses the session's ``sample_raw`` (seed 2016) and writes two more folders (same seed,
another seed) to compare bytes.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from coverage_analysis.domain import ARTICLE_MONTH, CAMPAIGN_START, CHANNELS
from coverage_analysis.sample import TRUTH_DIR, write_sample
from coverage_analysis.sample.simulate import BETA, DECAY, REPORT_SKIPS, quarter_key
from coverage_analysis.sample.vocab import VARIANT_FAMILIES

SEED = 2016
#: Calibration targets from the seed article.
ARTICLE_TOTAL = 1060
ARTICLE_TOTAL_TOLERANCE = 0  # the generator fills region-level material to hit it exactly
SEMEY_PRINT = 7
SOCIAL_USERS_MIN = 100_000
COUNT_KEYS = (
    "rows_clean",
    "rows_rejected",
    "rows_duplicate",
    "rows_summary",
    "rows_blank",
    "rows_out_of_scope",
)


def _files(raw: Path) -> dict[str, bytes]:
    return {
        p.relative_to(raw).as_posix(): p.read_bytes() for p in sorted(raw.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def truth(sample_raw: Path) -> dict:
    return json.loads((sample_raw / TRUTH_DIR / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def expected(sample_raw: Path) -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_parquet(p) for p in (sample_raw / TRUTH_DIR).glob("*.parquet")}


@pytest.mark.slow
def test_same_seed_gives_identical_bytes_and_other_seed_differs(
    sample_raw: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again"
    summary = write_sample(again, seed=SEED)
    first, second = _files(sample_raw), _files(again)
    assert sorted(first) == sorted(second)
    differing = [name for name in first if first[name] != second[name]]
    assert differing == []
    assert str(summary).startswith("Synthetic sample data")

    other = tmp_path / "other"
    write_sample(other, seed=SEED + 1)
    third = _files(other)
    shared = set(first) & set(third)
    changed = [n for n in shared if n.endswith((".xlsx", ".csv")) and first[n] != third[n]]
    assert len(changed) > len(shared) // 2


def test_every_variant_family_is_exercised(sample_raw: Path, truth: dict) -> None:
    variants = truth["variants"]
    missing = [fam for fam in VARIANT_FAMILIES if not variants.get(fam)]
    assert missing == []
    for fam, files in variants.items():
        for name in files:
            assert (sample_raw / name).is_file(), (fam, name)
    assert {f"channel_{c}" for c in CHANNELS} <= set(variants)


def test_calibration_facts_hold_in_expected_tables(expected: dict[str, pd.DataFrame]) -> None:
    c = expected["expected_publication_counts"]
    until = c[(c.month >= CAMPAIGN_START) & (c.month <= ARTICLE_MONTH)]
    assert abs(int(until.n.sum()) - ARTICLE_TOTAL) <= ARTICLE_TOTAL_TOLERANCE
    assert int(until[until.district_id == "ayagoz"].n.sum()) == 1
    semey_print = until[(until.district_id == "semey") & (until.channel == "print")]
    assert int(semey_print.n.sum()) == SEMEY_PRINT
    internet = c[c.channel.isin(["online", "social"]) & c.district_id.isin(["ridder", "abai"])]
    assert internet.empty
    soc = expected["expected_social_reach"]
    assert not soc.district_id.isin(["ridder", "abai"]).any()
    assert int(soc[soc.month <= ARTICLE_MONTH].users_reached.sum()) > SOCIAL_USERS_MIN
    # after the meeting coverage rises in most districts (per month, districts only)
    d = c[c.district_id != "region"]
    before = d[d.month <= ARTICLE_MONTH].groupby("district_id").n.sum() / 18
    after = d[d.month > ARTICLE_MONTH].groupby("district_id").n.sum() / 10
    assert (after.reindex(before.index, fill_value=0) > before).mean() > 0.5


def test_truth_records_the_true_effect(truth: dict, expected: dict[str, pd.DataFrame]) -> None:
    assert truth["true_effect"]["beta"] == BETA
    assert truth["true_effect"]["decay"] == DECAY
    panel = expected["simulated_panel"]
    assert panel.groupby("district_id").size().eq(28).all() and panel.district_id.nunique() == 19
    assert (panel.loc[panel.applications == 0, "amount_kzt"] == 0).all()


def test_counts_add_up_and_match_the_files(sample_raw: Path, truth: dict) -> None:
    for path, sheets in truth["files"].items():
        meta = truth["file_meta"][path]
        for name, counts in sheets.items():
            assert counts["rows_read"] == sum(counts[k] for k in COUNT_KEYS), (path, name)
            first = meta["sheets"][name]["first_data_row"]
            last = _last_nonempty_line(sample_raw / path, name, meta)
            assert last - first + 1 == counts["rows_read"], (path, name)


def _last_nonempty_line(path: Path, sheet: str, meta: dict) -> int:
    if meta["container"] == "xlsx":
        ws = openpyxl.load_workbook(path, read_only=True)[sheet]
        last = 0
        for i, row in enumerate(ws.iter_rows(values_only=True), start=1):
            if any(v not in (None, "") for v in row):
                last = i
        return last
    text = path.read_bytes().decode(meta["encoding"])
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=meta["delimiter"]))
    return max(i for i, r in enumerate(rows, start=1) if any(v.strip() for v in r))


def test_files_open_in_their_declared_format(sample_raw: Path, truth: dict) -> None:
    for path, meta in truth["file_meta"].items():
        data = (sample_raw / path).read_bytes()
        if meta["container"] == "xlsx":
            wb = openpyxl.load_workbook(io.BytesIO(data))
            assert wb.sheetnames == list(meta["sheets"])
        else:
            text = data.decode(meta["encoding"])
            assert data.startswith(b"\xef\xbb\xbf") == (meta["encoding"] == "utf-8-sig")
            assert meta["delimiter"] in text
    assert (
        (sample_raw / "README.txt").read_text(encoding="utf-8").startswith("Synthetic sample data")
    )


def test_unreported_quarters_and_empty_registry(expected: dict[str, pd.DataFrame]) -> None:
    cov = expected["expected_registry_coverage"]
    covered = set(zip(cov.district_id, cov.month.map(quarter_key), strict=True))
    for did, q in REPORT_SKIPS:
        assert (did, q) not in covered
    c = expected["expected_publication_counts"]
    zharma_q1 = c[(c.district_id == "zharma") & (c.month.map(quarter_key) == "2015Q1")]
    assert zharma_q1.empty and ("zharma", "2015Q1") in covered
    panel = expected["simulated_panel"]
    skipped = panel[panel.is_skipped_report]
    assert not skipped.is_reported.any() and skipped.materials.sum() > 0


def test_deliberate_rejects_and_duplicates(truth: dict, expected: dict[str, pd.DataFrame]) -> None:
    row_rejects = [r for r in truth["rejects"] if r["scope"] == "row"]
    reasons = {r["reason"] for r in row_rejects}
    assert {
        "unknown district",
        "ambiguous district",
        "impossible date",
        "outside campaign",
    } <= reasons
    assert len(
        {(r["source_file"], r["source_sheet"], r["source_row"]) for r in row_rejects}
    ) == sum(c["rows_rejected"] for sheets in truth["files"].values() for c in sheets.values())
    assert any(r["scope"] == "column" for r in truth["rejects"])
    by = {d.get("by") for d in truth["duplicates"] if d["kind"] == "publications"}
    assert by == {"url", "outlet+title+date"}
    assert any(d["kind"] == "legalization" for d in truth["duplicates"])
    pubs = expected["expected_publications"]
    assert not pubs.url.dropna().duplicated().any()
    leg = expected["expected_legalization"]
    assert leg.applications.isna().sum() == 1  # the decreasing cumulative value
    assert leg.amount_kzt.notna().all() and (leg.amount_kzt >= 0).all()


def test_per_post_social_rows_add_up(expected: dict[str, pd.DataFrame]) -> None:
    mats = expected["simulated_materials"]
    posts = mats[(mats.channel == "social") & (mats.district_id == "ust_kamenogorsk")]
    posts = posts[posts.month.dt.year == 2016]
    soc = expected["expected_social_reach"]
    soc = soc[(soc.district_id == "ust_kamenogorsk") & (soc.month.dt.year == 2016)]
    assert int(soc.posts.sum()) == len(posts) > 0
    assert int(soc.users_reached.sum()) == int(posts.reach.sum())
    assert soc.groupby(["month", "platform"]).size().max() == 1
