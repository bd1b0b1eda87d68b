"""Tests of the coverage indicators, rating, gap findings and akim briefing.

One small hand-made processed folder (real parquet files in ``tmp_path``) over
Jan - Jun 2016; every expected number below is counted by hand:

- ayagoz: registries cover Jan - Jun; 4 materials (Jan print, Feb print, Feb online,
  Mar seminar), nothing Apr - Jun; plan 2 print a month + 1 seminar in Mar (13).
- semey: registries cover Jan - Mar only; 3 materials (2 tv Jan, 1 social Feb); no plan.
- kurchatov: registries cover Jan - Jun and list nothing.
- ridder: a plan, but no registry at all.
- zaisan (and the others): no data at all.
- region: 2 materials that must not reach any district.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coverage_analysis.errors import ParameterError
from coverage_analysis.metrics import (
    DEFAULT_WEIGHTS,
    akim_briefing,
    briefing_table,
    district_indicators,
    district_rating,
    gap_findings,
    rating_sensitivity,
)
from coverage_analysis.reference import district_ids

START, END = "2016-01", "2016-06"
AYAGOZ_POP = 74000  # reference population_2016


def _d(month: str) -> object:
    return pd.Timestamp(month).date()


def _pub(district: str, month: str, channel: str, language=None, fmt="news", reach=None) -> dict:
    return {
        "material_id": f"{district}-{month}-{channel}-{language}-{fmt}",
        "date": None,
        "month": _d(month),
        "district_id": district,
        "channel": channel,
        "outlet": "o",
        "title": "t",
        "url": None,
        "reach": reach,
        "language": language,
        "format": fmt,
        "source_file": f"{district}.xlsx",
        "source_sheet": "Лист1",
        "source_row": 5,
    }


def _coverage(district: str, months: list[str]) -> list[dict]:
    return [
        {
            "district_id": district,
            "month": _d(m),
            "source_file": f"{district}.xlsx",
            "source_sheet": "Лист1",
        }
        for m in months
    ]


JAN_JUN = ["2016-01", "2016-02", "2016-03", "2016-04", "2016-05", "2016-06"]


@pytest.fixture
def processed(tmp_path: Path) -> Path:
    folder = tmp_path / "processed"
    folder.mkdir()
    pubs = pd.DataFrame(
        [
            _pub("ayagoz", "2016-01", "print", "ru", "news", 1000),
            _pub("ayagoz", "2016-02", "print", "kk", "targeted", None),
            _pub("ayagoz", "2016-02", "online", "both", "testimonial", 500),
            _pub("ayagoz", "2016-03", "seminar", "ru", "explainer", 40),
            _pub("semey", "2016-01", "tv", None, "news", 20000),
            _pub("semey", "2016-01", "tv", None, "explainer", 30000),
            _pub("semey", "2016-02", "social", None, "news", 900),
            _pub("region", "2016-01", "tv", "ru", "news", 100000),
            _pub("region", "2016-02", "social", "kk", "news", 5000),
        ]
    )
    pubs["reach"] = pubs["reach"].astype("Int64")
    pubs.to_parquet(folder / "publications.parquet", index=False)
    coverage = (
        _coverage("ayagoz", JAN_JUN)
        + _coverage("semey", JAN_JUN[:3])
        + _coverage("kurchatov", JAN_JUN)
    )
    pd.DataFrame(coverage).to_parquet(folder / "registry_coverage.parquet", index=False)
    plan_rows = [
        {
            "district_id": "ayagoz",
            "month": _d(m),
            "channel": "print",
            "planned": 2.0,
            "actual_reported": None,
        }
        for m in JAN_JUN
    ]
    plan_rows[0]["actual_reported"] = 1.0
    plan_rows[1]["actual_reported"] = 1.0
    plan_rows.append(
        {
            "district_id": "ayagoz",
            "month": _d("2016-03"),
            "channel": "seminar",
            "planned": 1.0,
            "actual_reported": None,
        }
    )
    plan_rows.append(
        {
            "district_id": "ridder",
            "month": _d("2016-02"),
            "channel": "print",
            "planned": 3.0,
            "actual_reported": None,
        }
    )
    plan = pd.DataFrame(plan_rows)
    plan["actual_reported"] = plan["actual_reported"].astype("float64")
    plan.to_parquet(folder / "media_plan.parquet", index=False)
    leg = pd.DataFrame(
        {
            "district_id": ["ayagoz"] * 3 + ["semey"],
            "month": [_d("2016-01"), _d("2016-03"), _d("2016-06"), _d("2016-06")],
            "applications": pd.array([5, 0, 7, 40], dtype="Int64"),
            "amount_kzt": [1e6, 0.0, 2e6, 9e7],
        }
    )
    leg.to_parquet(folder / "legalization.parquet", index=False)
    return folder


@pytest.fixture
def indicators(processed: Path) -> pd.DataFrame:
    return district_indicators(processed, START, END).set_index("district_id")


# --- indicators --------------------------------------------------------------------------


def test__district_indicators__one_row_per_district_in_reference_order(
    indicators: pd.DataFrame,
) -> None:
    assert indicators.index.tolist() == district_ids()
    assert "region" not in indicators.index


def test__district_indicators__hand_counts(indicators: pd.DataFrame) -> None:
    a = indicators.loc["ayagoz"]
    assert a["months_in_period"] == 6 and a["months_reported"] == 6
    assert a["materials"] == 4
    assert a["materials_per_10k"] == pytest.approx(4 / AYAGOZ_POP * 10_000)
    assert a["materials_print"] == 2 and a["materials_online"] == 1 and a["materials_tv"] == 0
    assert a["materials_print_per_10k"] == pytest.approx(2 / AYAGOZ_POP * 10_000)
    assert a["reach"] == 1540  # the Feb print article's reach is unknown
    assert a["reach_per_resident"] == pytest.approx(1540 / AYAGOZ_POP)
    assert a["channels_used"] == 3 and a["channels_total"] == 13
    assert a["has_online"] and not a["has_social"] and a["has_internet"]
    assert a["events"] == 1 and a["events_per_10k"] == pytest.approx(1 / AYAGOZ_POP * 10_000)
    assert a["share_targeted"] == pytest.approx(0.25) and a["share_testimonial"] == pytest.approx(
        0.25
    )
    assert a["share_kk"] == pytest.approx(0.5) and a["share_ru"] == pytest.approx(0.75)
    assert a["last_material_month"] == pd.Timestamp("2016-03-01")
    assert a["months_since_last_material"] == 3 and a["reported_months_since_last_material"] == 3


def test__district_indicators__plan_fulfilment(indicators: pd.DataFrame) -> None:
    a = indicators.loc["ayagoz"]
    assert a["planned"] == 13.0
    assert a["plan_fulfilment"] == pytest.approx(4 / 13)
    assert a["plan_fulfilment_print"] == pytest.approx(2 / 12)
    assert a["plan_fulfilment_seminar"] == pytest.approx(1.0)
    assert pd.isna(a["plan_fulfilment_online"])  # not planned
    assert a["plan_fulfilment_self_reported"] == pytest.approx(2 / 4)  # факт given for Jan, Feb
    # A district with a plan but no registry: planned known, fulfilment unknown
    r = indicators.loc["ridder"]
    assert r["planned"] == 3.0 and pd.isna(r["plan_fulfilment"]) and pd.isna(r["materials"])


def test__district_indicators__missing_is_not_zero(indicators: pd.DataFrame) -> None:
    s = indicators.loc["semey"]
    assert s["months_reported"] == 3 and s["share_months_reported"] == pytest.approx(0.5)
    assert s["materials"] == 3 and s["has_social"] and not s["has_online"]
    assert pd.isna(s["share_kk"])  # no material of known language
    assert s["months_since_last_material"] == 4 and s["reported_months_since_last_material"] == 1
    k = indicators.loc["kurchatov"]  # reported, nothing listed: zeros
    assert k["materials"] == 0 and k["channels_used"] == 0 and not k["has_internet"]
    assert k["months_since_last_material"] == 6 and pd.isna(k["share_targeted"])
    z = indicators.loc["zaisan"]  # no data at all: a row of unknowns
    assert z["months_reported"] == 0 and z["population"] == 37500
    for col in (
        "materials",
        "materials_per_10k",
        "channels_used",
        "has_internet",
        "events",
        "plan_fulfilment",
    ):
        assert pd.isna(z[col]), col


def test__district_indicators__period_validation(processed: Path) -> None:
    with pytest.raises(ParameterError, match="no months"):
        district_indicators(processed, "2016-06", "2016-01")
    with pytest.raises(ParameterError, match="outside the campaign"):
        district_indicators(processed, "2017-01", "2017-02")


def test__district_indicators__shorter_period(processed: Path) -> None:
    ind = district_indicators(processed, "2016-02", "2016-02").set_index("district_id")
    assert ind.loc["ayagoz", "materials"] == 2
    assert ind.loc["ayagoz", "months_since_last_material"] == 0


# --- rating ------------------------------------------------------------------------------


def test__district_rating__percentiles_and_ranks() -> None:
    ind = pd.DataFrame(
        {
            "district_id": ["a", "b", "c", "d"],
            "x": [1.0, 2.0, 3.0, None],
            "months_since_last_material": [0, 2, 1, 0],
        }
    )
    r = district_rating(ind, weights={"x": 3, "months_since_last_material": 1}).set_index(
        "district_id"
    )
    # x percentiles a 0, b .5, c 1; recency (lower better, ties averaged) a,d 5/6, b 0, c 1/3
    assert r.loc["a", "pct_months_since_last_material"] == pytest.approx(5 / 6)
    assert r.loc["a", "score"] == pytest.approx(100 * (0.75 * 0 + 0.25 * 5 / 6))
    assert r.loc["b", "score"] == pytest.approx(100 * (0.75 * 0.5 + 0.25 * 0))
    assert r.loc["c", "score"] == pytest.approx(100 * (0.75 * 1 + 0.25 * 1 / 3))
    # d has only 25% of the weight known (< MIN_WEIGHT_PRESENT): not scored, not ranked
    assert r.loc["d", "weight_present"] == pytest.approx(0.25)
    assert pd.isna(r.loc["d", "score"]) and pd.isna(r.loc["d", "rank"])
    assert r.loc[["c", "b", "a"], "rank"].tolist() == [1, 2, 3]


def test__district_rating__plan_fulfilment_capped() -> None:
    ind = pd.DataFrame({"district_id": ["a", "b", "c"], "plan_fulfilment": [1.0, 3.0, 0.5]})
    r = district_rating(ind, weights={"plan_fulfilment": 1}).set_index("district_id")
    assert r.loc["a", "score"] == r.loc["b", "score"]
    assert r.loc["a", "rank"] == 1 and r.loc["b", "rank"] == 1 and r.loc["c", "rank"] == 3


def test__district_rating__bad_weights() -> None:
    ind = pd.DataFrame({"district_id": ["a"], "x": [1.0]})
    with pytest.raises(ParameterError, match="not in the indicator table"):
        district_rating(ind, weights={"y": 1})
    with pytest.raises(ParameterError, match="non-negative"):
        district_rating(ind, weights={"x": -1})


def test__district_rating__on_tables(indicators: pd.DataFrame) -> None:
    r = district_rating(indicators.reset_index()).set_index("district_id")
    assert set(DEFAULT_WEIGHTS) <= {c.removeprefix("pct_") for c in r.columns}
    # Only the three districts with registries are scored; ayagoz beats semey and kurchatov
    assert r["rank"].notna().sum() == 3
    assert r.loc["ayagoz", "rank"] == 1 and r.loc["kurchatov", "rank"] == 3
    assert pd.isna(r.loc["zaisan", "rank"]) and pd.isna(r.loc["ridder", "rank"])


def test__rating_sensitivity__deterministic_and_bounded() -> None:
    rng = np.random.default_rng(1)
    ind = pd.DataFrame({"district_id": list("abcdefgh")})
    for name in DEFAULT_WEIGHTS:
        ind[name] = rng.random(8)
    ind["dominant"] = np.arange(8.0)
    first = rating_sensitivity(ind, n_draws=200, seed=7)
    again = rating_sensitivity(ind, n_draws=200, seed=7)
    pd.testing.assert_frame_equal(first, again)
    assert (first["rank_min"] <= first["rank"]).all() and (first["rank"] <= first["rank_max"]).all()
    assert first["share_within_1"].between(0, 1).all()
    # One indicator only: the weights cannot move any rank
    only = rating_sensitivity(ind, weights={"dominant": 1.0}, n_draws=50)
    assert (only["rank_min"] == only["rank_max"]).all() and (only["share_within_1"] == 1).all()
    assert only.set_index("district_id").loc["h", "rank"] == 1


# --- gaps --------------------------------------------------------------------------------


def _codes(findings: pd.DataFrame, district: str) -> list[str]:
    return findings.loc[findings["district_id"] == district, "code"].tolist()


def test__gap_findings__hand_checked(indicators: pd.DataFrame) -> None:
    f = gap_findings(indicators.reset_index())
    ay = f.loc[f["district_id"] == "ayagoz"].set_index("code")
    assert (
        ay.loc["LOW_PLAN_FULFILMENT", "message"] == "plan fulfilled at 31% (13 materials planned)"
    )
    assert ay.loc["LOW_PLAN_FULFILMENT", "value"] == pytest.approx(4 / 13)
    assert ay.loc["STALE", "message"] == "no material for 3 months (last: 2016-03)"
    assert ay.loc["STALE", "severity"] == "medium"
    assert ay.loc["FEW_MATERIALS", "message"] == "4 publications in 6 months (2016-01 .. 2016-06)"
    assert "NO_SOCIAL" in ay.index and "NO_INTERNET" not in ay.index and "NO_EVENTS" not in ay.index
    assert "NO_TARGETED" not in ay.index and "NO_TESTIMONIALS" not in ay.index

    ku = f.loc[f["district_id"] == "kurchatov"].set_index("code")
    assert ku.loc["FEW_MATERIALS", "message"] == "0 publications in 6 months (2016-01 .. 2016-06)"
    assert ku.loc["FEW_MATERIALS", "severity"] == "high"
    assert (
        ku.loc["NO_INTERNET", "message"]
        == "no internet or social media material in 2016-01 .. 2016-06"
    )
    assert ku.loc["STALE", "message"] == "no material for 6 months (none in the period)"
    assert (
        "NO_EVENTS" in ku.index and "NO_TARGETED" not in ku.index
    )  # no materials: no format finding

    se = f.loc[f["district_id"] == "semey"].set_index("code")
    assert se.loc["MONTHS_NOT_REPORTED", "message"] == "3 months of 6 not reported by any registry"
    assert "STALE" not in se.index  # 4 months since, but only 1 of them reported
    assert "NO_PLAN" in se.index and "NO_ONLINE" in se.index

    # Unknown is not nothing: no registry means only NOT_REPORTED (and NO_PLAN)
    assert _codes(f, "ridder") == ["NOT_REPORTED"]
    assert _codes(f, "zaisan") == ["NOT_REPORTED", "NO_PLAN"]
    # Sorted by district in reference order, high severity first within a district
    order = {d: i for i, d in enumerate(district_ids())}
    assert f["district_id"].map(order).is_monotonic_increasing
    assert ay["severity"].tolist()[0] == "high" or "high" not in ay["severity"].tolist()


def test__gap_findings__russian_and_validation(processed: Path) -> None:
    f = gap_findings(processed, START, END, lang="ru", district_ids=["kurchatov"])
    msgs = dict(zip(f["code"], f["message"], strict=True))
    assert msgs["FEW_MATERIALS"] == "0 публикаций за 6 месяцев (2016-01 .. 2016-06)"
    assert msgs["STALE"] == "нет материалов 6 месяцев (ни одного за период)"
    with pytest.raises(ParameterError, match="en, ru"):
        gap_findings(processed, lang="de")
    with pytest.raises(ParameterError, match="unknown finding codes"):
        gap_findings(processed, codes=["NOPE"])


# --- briefing ----------------------------------------------------------------------------


def test__akim_briefing__numbers(processed: Path) -> None:
    b = akim_briefing(processed, "ayagoz", "2016-06", start_month="2016-01")
    assert b["applications"] == {"cumulative": 12, "last_month": 7}
    assert b["amount_kzt"] == {"cumulative": 3e6, "last_month": 2e6}
    assert b["materials"]["cumulative"] == 4 and b["materials"]["last_month"] == 0
    assert b["materials"]["by_channel"]["print"] == 2
    assert b["reach"] == {"cumulative": 1540, "last_month": None}
    assert b["plan"]["fulfilment"] == pytest.approx(4 / 13)
    assert b["rating"]["rank"] == 1 and b["rating"]["of"] == 3
    assert "LOW_PLAN_FULFILMENT" in {g["code"] for g in b["gaps"]}
    # Earlier as-of month: no legalization row in May means unknown, not zero
    may = akim_briefing(processed, "ayagoz", "2016-05", start_month="2016-01")
    assert may["applications"] == {"cumulative": 5, "last_month": None}
    table = briefing_table(b)
    assert table.loc[table["item"] == "Applications received (cumulative)", "value"].item() == 12


def test__akim_briefing__given_panel_gives_the_same_briefing(processed: Path) -> None:
    from coverage_analysis.panel import build_panel
    from coverage_analysis.tables import load_tables

    tables = load_tables(processed)
    built = akim_briefing(tables, "ayagoz", "2016-06", start_month="2016-01")
    # a report batch passes its panel: the same period, or a longer one cut to it
    for start, end in (("2016-01", "2016-06"), ("2015-06", "2016-12")):
        panel = build_panel(tables, start, end)
        given = akim_briefing(tables, "ayagoz", "2016-06", start_month="2016-01", panel=panel)
        assert given == built
    short = build_panel(tables, "2016-03", "2016-06")
    with pytest.raises(ParameterError, match="does not cover 2016-01 to 2016-06"):
        akim_briefing(tables, "ayagoz", "2016-06", start_month="2016-01", panel=short)


def test__akim_briefing__validation(processed: Path) -> None:
    with pytest.raises(ParameterError, match="ayagoz"):
        akim_briefing(processed, "ajagoz", "2016-06")
    with pytest.raises(ParameterError, match="outside the campaign"):
        akim_briefing(processed, "ayagoz", "2017-03")
    with pytest.raises(ParameterError, match="en, ru"):
        akim_briefing(processed, "ayagoz", "2016-06", lang="kk")
    ru = akim_briefing(processed, "ayagoz", "2016-06", lang="ru", start_month="2016-01")
    assert ru["name"] == "Аягозский район"
