"""The ledger CSVs of a cleaned folder and the sample's truth, as comparable sets.

Shared by the region sample's and the national sample's truth tests: a reject is
(file, sheet, row, scope); a duplicate is (kept file, sheet, row, dropped file, sheet,
row), all as text, as ``rejects.csv`` and ``duplicates.csv`` hold them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

SIDES = ("kept", "dropped")
PLACE = ("file", "sheet", "row")


def rejects_and_truth(processed: Path, truth: dict) -> tuple[set, set]:
    """(rejects in ``rejects.csv``, rejects in the truth)."""
    rejects = pd.read_csv(processed / "rejects.csv", keep_default_na=False, dtype=str)
    columns = ["source_file", "source_sheet", "source_row", "scope"]
    got = set(rejects[columns].itertuples(index=False, name=None))
    expected = {tuple(str(r[c]) for c in columns) for r in truth["rejects"]}
    return got, expected


def duplicates_and_truth(processed: Path, truth: dict) -> tuple[set, set]:
    """(pairs in ``duplicates.csv``, pairs in the truth)."""
    dups = pd.read_csv(processed / "duplicates.csv", keep_default_na=False, dtype=str)
    got = set(dups[[f"{s}_{k}" for s in SIDES for k in PLACE]].itertuples(index=False, name=None))
    expected = {
        tuple(str(d[f"{s}_source_{k}"]) for s in SIDES for k in PLACE) for d in truth["duplicates"]
    }
    return got, expected
