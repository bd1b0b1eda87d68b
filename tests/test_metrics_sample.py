"""The panel and the metrics on the package's sample data set, written and cleaned once per
session (conftest ``sample_raw`` / ``sample_processed``).

Expected numbers come from the cleaned tables themselves (counted here independently
of the panel code) and from the sample's calibration to the seed article
(``<raw>/_truth/truth.json``): Ayagoz 1 publication Sep 2014 - Feb 2016, Semey 7
print articles, Ridder and Abai nothing online or on social media.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("coverage_analysis.sample")
pytest.importorskip("coverage_analysis.clean")

from coverage_analysis import domain
from coverage_analysis.metrics import (
    akim_briefing,
    district_indicators,
    district_rating,
    gap_findings,
    rating_sensitivity,
)
from coverage_analysis.panel import build_panel
from coverage_analysis.reference import district_ids
from coverage_analysis.tables import load_tables

#: The article's period: from the campaign start to the regional meeting.
ARTICLE_END = "2016-02"


@pytest.fixture(scope="module")
def calibration(sample_raw: Path) -> dict:
    truth = sample_raw / "_truth" / "truth.json"
    if not truth.is_file():
        pytest.skip("sample truth.json not written by this generator")
    return json.loads(truth.read_text(encoding="utf-8"))["calibration"]


@pytest.fixture(scope="module")
def tables(sample_processed: Path):
    return load_tables(sample_processed)


@pytest.fixture(scope="module")
def article_indicators(tables) -> pd.DataFrame:
    return district_indicators(tables, end_month=ARTICLE_END)


def _hand_counts(tables, end: str) -> pd.DataFrame:
    """Materials per district and channel in reported months up to ``end``, from the
    cleaned tables with a plain group-by."""
    pubs = tables.publications
    pubs = pubs.loc[
        (pubs["district_id"] != domain.REGION_ID) & (pubs["month"] <= pd.Timestamp(end))
    ]
    return pubs.groupby(["district_id", "channel"]).size().unstack(fill_value=0)


def test__sample_panel__shape_time_and_reporting(tables) -> None:
    panel = build_panel(tables)  # its speed is measured in benchmarks/bench_panel.py
    assert len(panel) == 19 * 28
    assert panel["district_id"].drop_duplicates().tolist() == district_ids()
    # is_reported = covered by the registry table, or holding a material
    cov = tables.registry_coverage[["district_id", "month"]].drop_duplicates()
    cov_keys = set(zip(cov["district_id"], cov["month"], strict=True))
    pubs = tables.publications.loc[tables.publications["district_id"] != domain.REGION_ID]
    pub_keys = set(zip(pubs["district_id"], pubs["month"], strict=True))
    expected = {k for k in cov_keys | pub_keys if k[1] in set(domain.campaign_months())}
    got = set(zip(*panel.loc[panel["is_reported"], ["district_id", "month"]].T.values, strict=True))
    assert got == expected
    assert panel.loc[~panel["is_reported"], "materials"].isna().all()
    # every district-level material is in the panel, none of the region's
    assert int(panel["materials"].sum()) == len(pubs)


def test__sample_panel__matches_cleaned_tables(tables) -> None:
    panel = build_panel(tables)
    pubs = tables.publications.loc[tables.publications["district_id"] != domain.REGION_ID]
    hand = pubs.groupby(["district_id", "month", "channel"]).size().rename("hand").reset_index()
    long = panel.melt(
        id_vars=["district_id", "month"],
        value_vars=[f"materials_{c}" for c in domain.CHANNELS],
        var_name="channel",
        value_name="panel",
    )
    long["channel"] = long["channel"].str.removeprefix("materials_")
    both = long.merge(hand, on=["district_id", "month", "channel"], how="left")
    both["hand"] = both["hand"].fillna(0)
    reported = both["panel"].notna()
    mismatch = both.loc[reported & (both["panel"] != both["hand"])]
    assert mismatch.empty, mismatch.head()
    assert (both.loc[~reported, "hand"] == 0).all()
    if tables.legalization is not None:
        leg = tables.legalization.groupby(["district_id", "month"])["applications"].sum()
        merged = panel.set_index(["district_id", "month"])["applications"].dropna()
        assert merged.sum() == leg.loc[leg.index.isin(merged.index)].sum()


def test__sample_indicators__hand_counts(tables, article_indicators: pd.DataFrame) -> None:
    ind = article_indicators.set_index("district_id")
    hand = _hand_counts(tables, ARTICLE_END)
    for district in district_ids():
        counts = hand.loc[district] if district in hand.index else pd.Series(dtype=int)
        for channel in domain.CHANNELS:
            assert ind.loc[district, f"materials_{channel}"] == counts.get(channel, 0), (
                district,
                channel,
            )
        online_social = counts.get("online", 0) + counts.get("social", 0)
        assert ind.loc[district, "internet_materials"] == online_social
        events = sum(counts.get(c, 0) for c in domain.EVENT_CHANNELS)
        assert ind.loc[district, "events"] == events


def test__sample_gaps__the_article_findings(
    article_indicators: pd.DataFrame, calibration: dict
) -> None:
    f = gap_findings(article_indicators)
    by = f.set_index(["district_id", "code"])
    ayagoz = by.loc[("ayagoz", "FEW_MATERIALS")]
    assert ayagoz["value"] == calibration["ayagoz_materials_until_article"] == 1
    assert ayagoz["severity"] == "high"
    assert ayagoz["message"].startswith("1 publication in ")
    assert ayagoz["period"] == "2014-09 .. 2016-02"
    semey = by.loc[("semey", "FEW_PRINT")]
    assert semey["value"] == calibration["semey_print_until_article"] == 7
    assert "7 print articles" in semey["message"]
    for district in ("ridder", "abai"):
        row = by.loc[(district, "NO_INTERNET")]
        assert row["message"] == "no internet or social media material since the campaign began"
    ru = gap_findings(article_indicators, lang="ru", district_ids=["ridder"])
    assert (
        "ни одного материала в интернете и социальных сетях с начала акции"
        in ru["message"].tolist()
    )


def test__sample_rating_and_briefing(tables, article_indicators: pd.DataFrame) -> None:
    rating = district_rating(article_indicators).set_index("district_id")
    assert rating["rank"].notna().all()
    # Ayagoz, with one publication, ranks below every district with more per head
    assert rating.loc["ayagoz", "rank"] == len(rating)
    sens = rating_sensitivity(article_indicators, n_draws=100, seed=3)
    pd.testing.assert_frame_equal(sens, rating_sensitivity(article_indicators, n_draws=100, seed=3))
    b = akim_briefing(tables, "ayagoz", ARTICLE_END)
    assert b["materials"]["cumulative"] == 1
    assert b["rating"]["rank"] == rating.loc["ayagoz", "rank"]
    leg = tables.legalization
    if leg is not None:
        mine = leg.loc[
            (leg["district_id"] == "ayagoz") & (leg["month"] <= pd.Timestamp(ARTICLE_END))
        ]
        assert b["applications"]["cumulative"] == int(mine["applications"].sum())


def test__sample_indicators__categorical_tables_give_the_same_indicators(
    sample_processed: Path, tables
) -> None:
    # the folder form loads the text columns as categories (national scale); the result
    # must be the plain tables' result, value for value and dtype for dtype
    categorical = load_tables(sample_processed, categorical=True)
    assert isinstance(categorical.publications["channel"].dtype, pd.CategoricalDtype)
    plain = district_indicators(tables, end_month=ARTICLE_END)
    pd.testing.assert_frame_equal(district_indicators(categorical, end_month=ARTICLE_END), plain)
    pd.testing.assert_frame_equal(
        district_indicators(sample_processed, end_month=ARTICLE_END), plain
    )
