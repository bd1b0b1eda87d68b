"""``rejects.csv``'s ``district_id``: filled where the row or its file names one district."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from test_clean_fixtures import REGISTRY_LINES, write_csv

from coverage_analysis.clean import clean_folder
from coverage_analysis.clean.rejects import attach_district_ids
from coverage_analysis.reference.districts import DistrictResolver


def test__rejects_csv__district_id_from_the_district_folder(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "raw" / "Районы" / "Аягоз" / "Реестр.csv", REGISTRY_LINES, encoding="cp1251"
    )
    write_csv(tmp_path / "raw" / "Сводный_реестр.csv", REGISTRY_LINES, encoding="utf-8")
    clean_folder(tmp_path / "raw", tmp_path / "out")
    rejects = pd.read_csv(tmp_path / "out" / "rejects.csv", keep_default_na=False, dtype=str)
    assert list(rejects.columns[:5]) == [
        "source_file",
        "source_sheet",
        "source_row",
        "kind",
        "district_id",
    ]
    mine = rejects.loc[rejects["source_file"].str.startswith("Районы")]
    summary = rejects.loc[rejects["source_file"] == "Сводный_реестр.csv"]
    assert len(mine) >= 3 and set(mine["district_id"]) == {"ayagoz"}
    assert len(summary) == len(mine) and set(summary["district_id"]) == {""}  # nothing named


def test__attach_district_ids__own_value_first_and_nothing_guessed() -> None:
    ledger = pd.DataFrame(
        {
            "source_file": ["Семей_реестр.csv", "Свод.xlsx", "Свод.xlsx", "Аягоз_и_Семей.csv"],
            "source_sheet": ["", "Лист1", "Лист1", ""],
            "source_row": pd.array([3, 4, 5, 6], dtype="Int64"),
            "kind": ["publications", "legalization", "legalization", "publications"],
            "field": ["reach", "district", "district", "date"],
            "value": ["abc", "г. Риддер", "Прочие", "31.02.2016"],
            "reason": ["r1", "r2", "r3", "r4"],
        }
    )
    out = attach_district_ids(ledger, DistrictResolver())
    assert out["district_id"].tolist() == ["semey", "ridder", None, None]
    pd.testing.assert_frame_equal(out.drop(columns="district_id"), ledger)  # nothing else changes
