"""The sample raw folder cleans to exactly what its generator says (``_truth/``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from truth_ledgers import duplicates_and_truth, rejects_and_truth

OUTCOME_KEYS = (
    "rows_clean",
    "rows_rejected",
    "rows_duplicate",
    "rows_summary",
    "rows_blank",
    "rows_out_of_scope",
)
#: Tables and the columns that identify a row of each.
TABLE_KEYS: dict[str, list[str]] = {
    "publications": ["source_file", "source_sheet", "source_row"],
    "legalization": ["district_id", "month"],
    "media_plan": ["district_id", "month", "channel"],
    "social_reach": ["district_id", "month", "platform"],
    "population": ["district_id", "year"],
    "registry_coverage": ["district_id", "month"],
}


def _norm(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for c in ("date", "month"):
        if c in out:
            out[c] = pd.to_datetime(out[c])
    return out


@pytest.fixture(scope="module")
def truth(sample_raw: Path) -> dict:
    return json.loads((sample_raw / "_truth" / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def report(sample_processed: Path) -> dict:
    return json.loads((sample_processed / "cleaning_report.json").read_text(encoding="utf-8"))


def test__clean_sample__every_sheet_balances(report: dict) -> None:
    for s in report["sheets"]:
        assert s["rows_read"] == sum(s[k] for k in OUTCOME_KEYS), s
    assert report["totals"]["rows_read"] == sum(report["totals"][k] for k in OUTCOME_KEYS)


def test__clean_sample__per_sheet_counts_equal_truth(report: dict, truth: dict) -> None:
    got = {
        (s["file"], s["sheet"]): {k: s[k] for k in ("rows_read", *OUTCOME_KEYS)}
        for s in report["sheets"]
    }
    expected = {
        (f, sh): counts for f, sheets in truth["files"].items() for sh, counts in sheets.items()
    }
    assert set(got) == set(expected)
    wrong = {k: (expected[k], got[k]) for k in expected if expected[k] != got[k]}
    assert not wrong
    assert sorted(s["file"] for s in report["skipped_files"]) == sorted(truth["skipped_files"])


@pytest.mark.parametrize("name", list(TABLE_KEYS))
def test__clean_sample__tables_equal_truth(
    sample_raw: Path, sample_processed: Path, name: str
) -> None:
    expected = _norm(pd.read_parquet(sample_raw / "_truth" / f"expected_{name}.parquet"))
    got = _norm(pd.read_parquet(sample_processed / f"{name}.parquet"))
    key = TABLE_KEYS[name]
    if name == "registry_coverage":
        got = got[key].drop_duplicates()
    cols = [c for c in expected.columns if c in got.columns]
    merged = expected[cols].merge(
        got[cols], on=key, how="outer", suffixes=("_e", "_g"), indicator=True
    )
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head()
    for c in cols:
        if c in key:
            continue
        a, b = merged[f"{c}_e"], merged[f"{c}_g"]
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            same = np.isclose(a.astype(float), b.astype(float), atol=1.0, equal_nan=True)
        else:
            same = ((a == b).fillna(False) | (a.isna() & b.isna())).to_numpy()
        assert same.all(), (c, merged.loc[~same, [*key, f"{c}_e", f"{c}_g"]].head())


def test__clean_sample__rejects_and_duplicates_equal_truth(
    sample_processed: Path, truth: dict
) -> None:
    got, expected = rejects_and_truth(sample_processed, truth)
    assert got == expected
    got_d, expected_d = duplicates_and_truth(sample_processed, truth)  # kept and dropped rows
    assert got_d == expected_d
