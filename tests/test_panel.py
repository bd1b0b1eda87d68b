"""Tests of the cleaned-table loader and the district × month panel.

Small hand-made tables are written as real parquet files in ``tmp_path``; the
expected values are counted by hand.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from coverage_analysis import domain
from coverage_analysis.errors import DataNotFoundError, ParameterError
from coverage_analysis.panel import (
    MATERIAL_COLUMNS,
    build_panel,
    period_months,
    region_materials,
    write_panel,
)
from coverage_analysis.reference import district_ids
from coverage_analysis.tables import load_tables

M = pd.Timestamp


def _pub(district: str, month: str, channel: str, **extra: object) -> dict:
    row = {
        "material_id": f"{district}-{month}-{channel}-{len(extra)}",
        "date": None,
        "month": M(month).date(),  # the cleaner writes a date
        "district_id": district,
        "channel": channel,
        "outlet": "x",
        "title": "t",
        "url": None,
        "reach": None,
        "language": None,
        "format": "news",
        "source_file": "reg.xlsx",
        "source_sheet": "Лист1",
        "source_row": 2,
    }
    row.update(extra)
    return row


def _write(folder: Path, **tables: pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


@pytest.fixture
def small_processed(tmp_path: Path) -> Path:
    pubs = pd.DataFrame(
        [
            _pub("ayagoz", "2015-03-01", "print", reach=1500, language="ru"),
            _pub("ayagoz", "2015-03-01", "social", reach=None, language="kk", format="testimonial"),
            _pub("semey", "2015-04-01", "tv", reach=20000),
            _pub("region", "2015-03-01", "tv", reach=100000),
            _pub("region", "2015-03-01", "print"),
        ]
    )
    pubs["reach"] = pubs["reach"].astype("Int64")
    coverage = pd.DataFrame(
        {
            "district_id": ["ayagoz"] * 3 + ["semey"],
            "month": [
                M(m).date() for m in ("2015-02-01", "2015-03-01", "2015-04-01", "2015-04-01")
            ],
            "source_file": "reg.xlsx",
            "source_sheet": "Лист1",
        }
    )
    leg = pd.DataFrame(
        {
            "district_id": ["ayagoz", "ayagoz"],
            "month": [M("2015-03-01").date(), M("2015-12-01").date()],
            "applications": pd.array([3, 0], dtype="Int64"),
            "amount_kzt": [4.5e6, 0.0],
        }
    )
    plan = pd.DataFrame(
        {
            "district_id": ["ayagoz", "ayagoz", "ridder"],
            "month": [M("2015-03-01").date()] * 3,
            "channel": ["print", "online", "print"],
            "planned": [2.0, 1.0, 1.0],
            "actual_reported": [2.0, None, None],
        }
    )
    social = pd.DataFrame(
        {
            "district_id": ["ayagoz", "ayagoz"],
            "month": [M("2015-03-01").date()] * 2,
            "platform": ["facebook", "vk"],
            "posts": [2, 1],
            "users_reached": [300, 200],
        }
    )
    pop = pd.DataFrame({"district_id": ["ayagoz"], "year": [2015], "population": [80000]})
    return _write(
        tmp_path / "processed",
        publications=pubs,
        registry_coverage=coverage,
        legalization=leg,
        media_plan=plan,
        social_reach=social,
        population=pop,
    )


def _row(panel: pd.DataFrame, district: str, month: str) -> pd.Series:
    rows = panel.loc[(panel["district_id"] == district) & (panel["month"] == M(month))]
    assert len(rows) == 1, f"expected one row for {district} {month}, got {len(rows)}"
    return rows.iloc[0]


def test__load_tables__absent_kinds_are_none(small_processed: Path) -> None:
    (small_processed / "media_plan.parquet").unlink()
    tables = load_tables(small_processed)
    assert tables.media_plan is None
    assert tables.publications is not None and len(tables.publications) == 5
    assert tables.publications["month"].dtype == "datetime64[ns]"


def test__load_tables__empty_folder_names_the_folder(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match=str(tmp_path)):
        load_tables(tmp_path)
    with pytest.raises(DataNotFoundError, match="does not exist"):
        load_tables(tmp_path / "nowhere")


def test__build_panel__shape_order_and_columns(small_processed: Path) -> None:
    panel = build_panel(small_processed)
    assert len(panel) == 19 * 28
    assert list(panel["district_id"].unique()) == district_ids()
    assert domain.REGION_ID not in set(panel["district_id"])
    assert (
        panel.groupby("district_id", sort=False)["month"]
        .apply(lambda s: s.is_monotonic_increasing)
        .all()
    )
    for col in (
        "population",
        "materials",
        *MATERIAL_COLUMNS,
        "reach",
        "applications",
        "amount_kzt",
        "planned",
        "is_reported",
    ):
        assert col in panel.columns, col


def test__build_panel__counts_and_missing_is_not_zero(small_processed: Path) -> None:
    panel = build_panel(small_processed)
    march = _row(panel, "ayagoz", "2015-03-01")
    assert march["is_reported"]
    assert march["materials"] == 2
    assert (
        march["materials_print"] == 1
        and march["materials_social"] == 1
        and march["materials_tv"] == 0
    )
    assert march["reach"] == 1500  # the social post's reach is unknown, not zero
    assert march["reach_known_materials"] == 1
    assert march["population"] == 80000  # the population file overrides the reference
    assert march["materials_per_10k"] == pytest.approx(2 / 80000 * 10_000)
    assert march["applications"] == 3 and march["amount_kzt"] == 4.5e6
    assert march["planned"] == 3.0 and march["actual_reported"] == 2.0
    assert march["social_posts"] == 3 and march["social_users_reached"] == 500
    # Reported by the registry but no material: zero
    feb = _row(panel, "ayagoz", "2015-02-01")
    assert feb["is_reported"] and feb["materials"] == 0 and feb["materials_print"] == 0
    assert pd.isna(feb["reach"]) and pd.isna(feb["applications"]) and not feb["has_legalization"]
    # Not covered by any registry: NA, not zero
    may = _row(panel, "ayagoz", "2015-05-01")
    assert not may["is_reported"]
    assert (
        pd.isna(may["materials"])
        and pd.isna(may["materials_print"])
        and pd.isna(may["materials_per_10k"])
    )
    # Reported zero applications is zero, not NA
    dec = _row(panel, "ayagoz", "2015-12-01")
    assert dec["applications"] == 0 and dec["has_legalization"]
    # A district with a plan but no registry: planned known, materials NA
    ridder = _row(panel, "ridder", "2015-03-01")
    assert ridder["planned"] == 1.0 and not ridder["is_reported"] and pd.isna(ridder["materials"])
    # A district with no data at all: reference population, everything else NA
    zaisan = panel.loc[panel["district_id"] == "zaisan"]
    assert (zaisan["population"] == 37500).all()
    assert not zaisan["is_reported"].any() and zaisan["materials"].isna().all()
    assert zaisan["applications"].isna().all() and zaisan["planned"].isna().all()
    # Region-level material stays out of the district rows
    assert int(panel["materials"].sum()) == 3


def test__build_panel__period_cut_and_validation(small_processed: Path) -> None:
    panel = build_panel(small_processed, "2015-03", "2015-04")
    assert len(panel) == 19 * 2
    with pytest.raises(ParameterError, match=r"2014-09 \.\. 2016-12"):
        build_panel(small_processed, "2014-01")
    with pytest.raises(ParameterError, match="no months"):
        period_months("2016-05", "2016-04")
    with pytest.raises(ParameterError, match="not a month"):
        period_months("spring")


def test__build_panel__coverage_inferred_without_registry_table(small_processed: Path) -> None:
    (small_processed / "registry_coverage.parquet").unlink()
    panel = build_panel(small_processed)
    # The sheet spans 2015-03 .. 2015-04 and lists ayagoz and semey
    assert _row(panel, "ayagoz", "2015-04-01")["materials"] == 0
    assert _row(panel, "semey", "2015-03-01")["materials"] == 0
    assert pd.isna(_row(panel, "ayagoz", "2015-02-01")["materials"])
    assert int(panel["is_reported"].sum()) == 4


def test__build_panel__without_legalization_outcomes_are_null(small_processed: Path) -> None:
    (small_processed / "legalization.parquet").unlink()
    panel = build_panel(small_processed)
    assert panel["applications"].isna().all() and panel["amount_kzt"].isna().all()
    assert not panel["has_legalization"].any()


def test__region_materials__month_by_channel(small_processed: Path) -> None:
    region = region_materials(small_processed, "2015-03", "2015-04")
    assert region["materials"].tolist() == [2, 0]
    assert region["materials_tv"].tolist() == [1, 0]
    assert region["materials_print"].tolist() == [1, 0]


def test__write_panel__atomic_file(small_processed: Path) -> None:
    path = write_panel(small_processed)
    assert path.name == "panel.parquet"
    back = pd.read_parquet(path)
    assert len(back) == 532
    assert not [p for p in small_processed.iterdir() if p.name.startswith(".panel-")]


def test__build_panel__categorical_tables_give_the_same_panel(small_processed: Path) -> None:
    plain = build_panel(load_tables(small_processed))
    categorical = load_tables(small_processed, categorical=True)
    assert isinstance(categorical.publications["district_id"].dtype, pd.CategoricalDtype)
    pd.testing.assert_frame_equal(build_panel(categorical), plain)
    lean = load_tables(small_processed, categorical=True, free_text=False)
    assert {"title", "url"} & set(lean.publications.columns) == set()
    assert {"title", "url"} <= set(categorical.publications.columns)
    pd.testing.assert_frame_equal(build_panel(lean), plain)
    (small_processed / "registry_coverage.parquet").unlink()
    pd.testing.assert_frame_equal(
        build_panel(load_tables(small_processed, categorical=True)),
        build_panel(load_tables(small_processed)),
    )
