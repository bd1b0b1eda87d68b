"""The republic's coverage rating of regions, recomputed from the districts.

Why: the seed article opens with East Kazakhstan standing low in the republic's rating of
regions, a rating the central body compiles and nobody in the region can reproduce. Here
it is rebuilt from the same district data as the district rating, in the national scope
(the 216 units of the national reference, each with its ``region_id``).

Region indicators (:func:`region_indicators`) are sums over the region's districts, never
means of district ratios, so a large city weighs as its population:

- ``materials_per_10k``, ``internet_materials_per_10k``, ``events_per_10k``: materials
  (all, online + social, seminars/round tables/open days/briefings) in reported months
  per 10,000 residents of the districts that reported;
- ``channels_used``: channels with at least one material anywhere in the region;
- ``plan_fulfilment``: materials over planned, both over the months with a plan row and a
  registry (the district definition, summed: Σ actual / Σ planned);
- ``share_districts_internet``: share of the region's districts with any internet
  presence (``has_internet``), the districts with unknown presence left out;
- ``share_targeted_or_testimonial``: targeted articles and testimonials / materials;
- ``share_months_reported``: reported district-months / district-months.

A region with no reported district-month has NA counts (unknown, not zero).

The rating (:func:`region_rating`) and its sensitivity to the weights
(:func:`region_rating_sensitivity`) are those of :mod:`.rating` — percentile ranks, a
weighted mean over the indicators present, rank 1 = best, Dirichlet redraws of the
weights — applied to the 16 regions with :data:`REGION_WEIGHTS`.

>>> ind = pd.DataFrame({"district_id": ["a", "b", "c"], "region_id": ["r1", "r1", "r2"],
...     "population": [10000.0, 30000.0, 20000.0], "materials": [4, 4, 2],
...     "months_reported": [2, 2, 2], "months_in_period": [2, 2, 2]})
>>> r = region_indicators(ind)
>>> r[["region_id", "materials_per_10k", "share_months_reported"]].values.tolist()
[['r1', 2.0, 1.0], ['r2', 1.0, 1.0]]
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

import numpy as np
import pandas as pd

from coverage_analysis import domain
from coverage_analysis.metrics.rating import (
    DEFAULT_SEED,
    DIRICHLET_CONCENTRATION,
    N_DRAWS,
    district_rating,
    rating_sensitivity,
)
from coverage_analysis.tables import CleanTables

log = logging.getLogger(__name__)

#: Weights of the regions' composite score (sum 1): volume per head first, then the
#: breadth and the formats the article finds missing, the plan and reporting discipline.
REGION_WEIGHTS: dict[str, float] = {
    "materials_per_10k": 0.25,  # volume of coverage per 10,000 residents
    "channels_used": 0.10,  # breadth: channels used anywhere in the region
    "internet_materials_per_10k": 0.15,  # online + social presence per head
    "share_districts_internet": 0.10,  # share of districts with any internet presence
    "events_per_10k": 0.10,  # explanatory events per head
    "plan_fulfilment": 0.10,  # media plans fulfilled (capped at 100%)
    "share_targeted_or_testimonial": 0.10,  # the formats the article says are missing
    "share_months_reported": 0.10,  # reporting discipline
}
#: File name of the regions' rating written beside the national reports (CSV).
REGION_RATING_CSV = "region_rating.csv"


def _sum(frame: pd.DataFrame, column: str) -> pd.Series:
    """Region sums of ``column`` (NA when no district of the region has it)."""
    if column not in frame:
        return pd.Series(np.nan, index=frame["region_id"].unique())
    values = frame[column].astype("Float64").astype("float64")
    return values.groupby(frame["region_id"], sort=False).sum(min_count=1)


def region_indicators(
    district_indicators: pd.DataFrame, reference: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per region (``region_id``) from a district indicator table
    (:func:`~coverage_analysis.metrics.district_indicators`): the indicators of the module
    docstring plus ``population``, ``districts`` and ``materials``. ``reference`` (default:
    the district reference in use) gives each district's ``region_id`` when the table has
    none."""
    ind = district_indicators.copy()
    if "region_id" not in ind:
        if reference is None:
            from coverage_analysis.reference import load_districts

            reference = load_districts()
        if "region_id" not in reference:
            from coverage_analysis.errors import ParameterError

            raise ParameterError(
                "the district reference has no region_id column: the rating of regions "
                "needs the national scope (--scope national)"
            )
        ind["region_id"] = ind["district_id"].map(reference.set_index("district_id")["region_id"])
    reported = ind.get("months_reported", pd.Series(1, index=ind.index)).fillna(0) > 0
    g = ind.groupby("region_id", sort=False)
    out = pd.DataFrame(index=pd.Index(ind["region_id"].unique(), name="region_id"))
    out["districts"] = g.size()
    out["population"] = g["population"].sum()
    pop_reported = ind["population"].where(reported).groupby(ind["region_id"]).sum(min_count=1)
    out["materials"] = _sum(ind, "materials")
    per = domain.PER_RESIDENTS
    out["materials_per_10k"] = out["materials"] / pop_reported * per
    for name, column in (
        ("internet_materials_per_10k", "internet_materials"),
        ("events_per_10k", "events"),
    ):
        out[name] = _sum(ind, column) / pop_reported * per
    channel_cols = [f"materials_{c}" for c in domain.CHANNELS if f"materials_{c}" in ind]
    if channel_cols:
        used = pd.DataFrame({c: _sum(ind, c) for c in channel_cols})
        out["channels_used"] = (used > 0).sum(axis=1).where(out["materials"].notna())
    if {"plan_fulfilment", "planned_in_reported_months"} <= set(ind.columns):
        planned = ind["planned_in_reported_months"].astype("Float64").astype("float64")
        actual = ind["plan_fulfilment"].astype("Float64").astype("float64") * planned
        sums = pd.DataFrame({"a": actual, "p": planned, "r": ind["region_id"]}).groupby("r")
        p = sums["p"].sum(min_count=1)
        out["plan_fulfilment"] = (sums["a"].sum(min_count=1) / p.where(p > 0)).reindex(out.index)
    if "has_internet" in ind:
        known = ind["has_internet"].astype("boolean")
        out["share_districts_internet"] = (
            known.astype("Float64").astype("float64").groupby(ind["region_id"]).mean()
        )
    if {"materials_targeted", "materials_testimonial"} <= set(ind.columns):
        formats = _sum(ind, "materials_targeted") + _sum(ind, "materials_testimonial")
        out["share_targeted_or_testimonial"] = formats / out["materials"].where(
            out["materials"] > 0
        )
    if {"months_reported", "months_in_period"} <= set(ind.columns):
        out["share_months_reported"] = _sum(ind, "months_reported") / _sum(ind, "months_in_period")
    return out.reset_index()


def _as_district_keyed(indicators: pd.DataFrame) -> pd.DataFrame:
    """The rating functions key on ``district_id``: a region table under that name."""
    return indicators.rename(columns={"region_id": "district_id"})


def _regions_of(
    source: pd.DataFrame | CleanTables | str | os.PathLike[str],
    start_month: str | pd.Timestamp | None,
    end_month: str | pd.Timestamp | None,
) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source if "district_id" not in source else region_indicators(source)
    from coverage_analysis.metrics.indicators import district_indicators

    return region_indicators(district_indicators(source, start_month, end_month))


def region_rating(
    source: pd.DataFrame | CleanTables | str | os.PathLike[str],
    weights: Mapping[str, float] | None = None,
    start_month: str | pd.Timestamp | None = None,
    end_month: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Score (0-100) and rank (1 = best) of every region: ``source`` is a region indicator
    table (:func:`region_indicators`), a district indicator table, or the cleaned tables /
    processed folder of the national scope. Columns ``region_id``, ``score``, ``rank``,
    ``weight_present``, ``pct_<indicator>``."""
    regions = _regions_of(source, start_month, end_month)
    rated = district_rating(_as_district_keyed(regions), weights=dict(weights or REGION_WEIGHTS))
    return rated.rename(columns={"district_id": "region_id"})


def region_rating_sensitivity(
    source: pd.DataFrame | CleanTables | str | os.PathLike[str],
    weights: Mapping[str, float] | None = None,
    n_draws: int = N_DRAWS,
    concentration: float = DIRICHLET_CONCENTRATION,
    seed: int = DEFAULT_SEED,
    start_month: str | pd.Timestamp | None = None,
    end_month: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Range of each region's rank when the weights are redrawn from
    Dirichlet(``concentration`` × weights) (:func:`~.rating.rating_sensitivity`)."""
    regions = _regions_of(source, start_month, end_month)
    out = rating_sensitivity(
        _as_district_keyed(regions),
        weights=dict(weights or REGION_WEIGHTS),
        n_draws=n_draws,
        concentration=concentration,
        seed=seed,
    )
    return out.rename(columns={"district_id": "region_id"})


def region_rating_table(
    source: pd.DataFrame | CleanTables | str | os.PathLike[str],
    start_month: str | pd.Timestamp | None = None,
    end_month: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """The regions' rating as written to :data:`REGION_RATING_CSV`: names, rank, the rank
    range under other weights (5th-95th percentile and min-max), score and the indicators;
    sorted by rank."""
    from coverage_analysis.reference.national import region_names

    regions = _regions_of(source, start_month, end_month)
    rating = region_rating(regions)
    sens = region_rating_sensitivity(regions)
    names = region_names().set_index("region_id")
    table = (
        rating[["region_id", "rank", "score", "weight_present"]]
        .merge(sens[["region_id", "rank_min", "rank_max", "rank_p05", "rank_p95"]], on="region_id")
        .merge(regions, on="region_id")
    )
    table.insert(1, "name_en", table["region_id"].map(names["name_en"]))
    table.insert(2, "name_ru", table["region_id"].map(names["name_ru"]))
    return table.sort_values(["rank", "region_id"], na_position="last").reset_index(drop=True)


__all__ = [
    "REGION_RATING_CSV",
    "REGION_WEIGHTS",
    "region_indicators",
    "region_rating",
    "region_rating_sensitivity",
    "region_rating_table",
]
