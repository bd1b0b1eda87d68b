"""The district rating: a composite coverage score, its rank and how robust the rank is.

Method
------
1. Each indicator of :data:`DEFAULT_WEIGHTS` is taken from
   :func:`~coverage_analysis.metrics.indicators.district_indicators`
   (``plan_fulfilment`` capped at :data:`PLAN_FULFILMENT_CAP`, so
   over-fulfilling a small plan earns no more than fulfilling it).
2. Standardisation by **percentile rank** across the districts that have the
   indicator: ``(rank - 1) / (n - 1)`` with ties averaged, so 0 = worst and
   1 = best (reversed for :data:`LOWER_IS_BETTER`). Ranks rather than
   z-scores because the indicators are skewed counts and shares with ~19
   districts: one outlier city must not dominate the score.
3. ``score`` = 100 × weighted mean of the percentiles over the indicators the
   district has (weights renormalised). A missing indicator is unknown, not
   zero, so it is left out rather than scored as worst; when the indicators
   present carry less than :data:`MIN_WEIGHT_PRESENT` of the total weight the
   score is NA and the district is not ranked (``rank`` NA, ``weight_present``
   says why).
4. ``rank``: 1 = best score; ties share the best rank ("min").

:func:`rating_sensitivity` redraws the weights from a Dirichlet distribution
centred on the chosen weights (:data:`DIRICHLET_CONCENTRATION`) and reports,
per district, the range of ranks and the share of draws that keep the
district within ±1 of its rank. Deterministic for a seed.

>>> ind = pd.DataFrame({"district_id": ["a", "b", "c"], "materials_per_10k": [1.0, 3.0, 2.0]})
>>> district_rating(ind, weights={"materials_per_10k": 1.0})[["district_id", "score", "rank"]].values.tolist()
[['a', 0.0, 3], ['b', 100.0, 1], ['c', 50.0, 2]]
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

import numpy as np
import pandas as pd

from coverage_analysis.errors import ParameterError
from coverage_analysis.metrics.indicators import district_indicators
from coverage_analysis.tables import CleanTables

log = logging.getLogger(__name__)

#: Weights of the composite score (sum 1). The volume of coverage per head counts most;
#: breadth (channels, internet, explanatory events), reach, the district's own plan,
#: the right formats, recency and reporting discipline follow.
DEFAULT_WEIGHTS: dict[str, float] = {
    "materials_per_10k": 0.25,  # volume of coverage per 10,000 residents
    "channels_used": 0.15,  # breadth: how many of the 13 channels were used
    "internet_materials_per_10k": 0.15,  # online + social presence per head
    "events_per_10k": 0.10,  # seminars, round tables, open days, briefings per head
    "reach_per_resident": 0.10,  # audience reached per resident
    "plan_fulfilment": 0.10,  # own media plan fulfilled (capped at 100%)
    "share_targeted_or_testimonial": 0.05,  # the formats the article says are missing
    "months_since_last_material": 0.05,  # recency (fewer months is better)
    "share_months_reported": 0.05,  # reporting discipline
}
#: Indicators where a lower value is better.
LOWER_IS_BETTER: frozenset[str] = frozenset({"months_since_last_material"})
#: Plan fulfilment above this (1.0 = 100%) earns nothing more.
PLAN_FULFILMENT_CAP = 1.0
#: Minimum share of the total weight a district's known indicators must carry to be scored.
MIN_WEIGHT_PRESENT = 0.5
#: Score scale: a district best on every indicator scores this.
SCORE_SCALE = 100.0
#: Dirichlet concentration of the weight draws (sum of the alphas): larger = draws
#: closer to the chosen weights. 50 moves a weight of 0.10 by about ±0.04 (1 sd).
DIRICHLET_CONCENTRATION = 50.0
#: Number of weight draws of the sensitivity analysis.
N_DRAWS = 500
#: Seed of the sensitivity analysis (the sample data's seed, for reproducibility).
DEFAULT_SEED = 2016


def _indicator_frame(
    source: pd.DataFrame | CleanTables | str | os.PathLike[str],
    start_month: str | pd.Timestamp | None,
    end_month: str | pd.Timestamp | None,
) -> pd.DataFrame:
    """``source`` if it is already an indicator table, else its indicators."""
    if isinstance(source, pd.DataFrame):
        return source
    return district_indicators(source, start_month, end_month)


def _check_weights(weights: Mapping[str, float] | None, columns: pd.Index) -> dict[str, float]:
    chosen = dict(DEFAULT_WEIGHTS if weights is None else weights)
    missing = [k for k in chosen if k not in columns]
    if missing:
        raise ParameterError(
            f"weights name indicators that are not in the indicator table: {missing}; "
            f"available: {', '.join(map(str, columns))}"
        )
    bad = {k: v for k, v in chosen.items() if not np.isfinite(v) or v < 0}
    if bad or not chosen or sum(chosen.values()) <= 0:
        raise ParameterError(f"weights must be non-negative with a positive sum; got {chosen}")
    total = sum(chosen.values())
    return {k: v / total for k, v in chosen.items()}


def standardised_indicators(indicators: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Percentile ranks (0 = worst, 1 = best) of the ``names`` columns across districts,
    NA where the indicator is NA; indexed by ``district_id``.

    >>> ind = pd.DataFrame({"district_id": ["a", "b", "c"],
    ...     "months_since_last_material": [0, 5, None]})
    >>> standardised_indicators(ind, ["months_since_last_material"]).iloc[:, 0].tolist()
    [1.0, 0.0, nan]
    """
    frame = indicators.set_index("district_id")
    out = pd.DataFrame(index=frame.index)
    for name in names:
        values = pd.to_numeric(frame[name].astype("Float64"), errors="coerce").astype("float64")
        if name == "plan_fulfilment":
            values = values.clip(upper=PLAN_FULFILMENT_CAP)
        if name in LOWER_IS_BETTER:
            values = -values
        n_valid = int(values.notna().sum())
        ranks = values.rank(method="average")
        out[name] = (ranks - 1) / (n_valid - 1) if n_valid > 1 else ranks * 0 + 0.5
    return out


def _scores(pct: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scores (districts × draws) and weight present, for weight vectors in the columns."""
    present = ~np.isnan(pct)
    filled = np.where(present, pct, 0.0)
    weight_present = present.astype(float) @ weights
    with np.errstate(invalid="ignore", divide="ignore"):
        score = SCORE_SCALE * (filled @ weights) / weight_present
    score[weight_present < MIN_WEIGHT_PRESENT - 1e-12] = np.nan
    return score, weight_present


def _ranks(score: np.ndarray) -> np.ndarray:
    """Ranks (1 = best, ties share the best rank) of each column; NaN stays NaN."""
    ranked = pd.DataFrame(score).rank(axis=0, ascending=False, method="min")
    return ranked.to_numpy()


def district_rating(
    indicators_or_tables: pd.DataFrame | CleanTables | str | os.PathLike[str],
    weights: Mapping[str, float] | None = None,
    start_month: str | pd.Timestamp | None = None,
    end_month: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Composite score and rank of every district (method in the module docstring).

    ``indicators_or_tables``: an indicator table (:func:`district_indicators`), or the
    cleaned tables / processed folder to compute it from over the period. Returns, in the
    indicator table's order, ``district_id``, ``score`` (0-100), ``rank`` (1 = best; NA when
    not scored), ``weight_present`` and one ``pct_<indicator>`` column per weighted
    indicator (its percentile, 0 = worst, 1 = best).
    """
    indicators = _indicator_frame(indicators_or_tables, start_month, end_month)
    chosen = _check_weights(weights, indicators.columns)
    names = list(chosen)
    pct = standardised_indicators(indicators, names)
    w = np.array([chosen[n] for n in names])
    score, present = _scores(pct.to_numpy(dtype=float), w[:, None])
    out = pd.DataFrame({"district_id": pct.index})
    out["score"] = np.round(score[:, 0], 6)
    out["rank"] = pd.array(_ranks(score)[:, 0], dtype="Float64").round().astype("Int64")
    out["weight_present"] = np.round(present[:, 0], 6)
    for n in names:
        out[f"pct_{n}"] = pct[n].to_numpy()
    return out


def rating_sensitivity(
    indicators_or_tables: pd.DataFrame | CleanTables | str | os.PathLike[str],
    weights: Mapping[str, float] | None = None,
    n_draws: int = N_DRAWS,
    concentration: float = DIRICHLET_CONCENTRATION,
    seed: int = DEFAULT_SEED,
    start_month: str | pd.Timestamp | None = None,
    end_month: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """How much each district's rank depends on the weights.

    Draws ``n_draws`` weight vectors from Dirichlet(``concentration`` × weights), recomputes
    every rank and returns per district: ``rank`` (with the chosen weights), ``rank_min``,
    ``rank_max``, ``rank_p05``, ``rank_p95``, ``rank_median`` and ``share_within_1``
    (share of draws whose rank is within ±1 of ``rank``). Deterministic for ``seed``.

    >>> ind = pd.DataFrame({"district_id": ["a", "b"], "x": [1.0, 2.0], "y": [1.0, 2.0]})
    >>> s = rating_sensitivity(ind, weights={"x": 0.5, "y": 0.5}, n_draws=20)
    >>> s[["district_id", "rank_min", "rank_max", "share_within_1"]].values.tolist()
    [['a', 2, 2, 1.0], ['b', 1, 1, 1.0]]
    """
    if n_draws < 1:
        raise ParameterError(f"n_draws must be at least 1; got {n_draws}")
    if concentration <= 0:
        raise ParameterError(f"concentration must be positive; got {concentration}")
    indicators = _indicator_frame(indicators_or_tables, start_month, end_month)
    chosen = _check_weights(weights, indicators.columns)
    names = list(chosen)
    pct = standardised_indicators(indicators, names).to_numpy(dtype=float)
    base = np.array([chosen[n] for n in names])
    rng = np.random.default_rng(seed)
    # Zero weights stay zero (a Dirichlet alpha must be positive).
    positive = base > 0
    draws = np.zeros((len(names), n_draws))
    draws[positive] = rng.dirichlet(concentration * base[positive], size=n_draws).T
    base_rank = _ranks(_scores(pct, base[:, None])[0])[:, 0]
    ranks = _ranks(_scores(pct, draws)[0])
    with np.errstate(invalid="ignore"):
        within = np.abs(ranks - base_rank[:, None]) <= 1
    scored = ~np.isnan(base_rank)
    rank_cols = {
        "rank_min": np.nanmin,
        "rank_max": np.nanmax,
        "rank_median": np.nanmedian,
    }
    out = pd.DataFrame({"district_id": indicators["district_id"].to_numpy()})
    out["rank"] = pd.array(base_rank, dtype="Float64").round().astype("Int64")
    for col, fn in rank_cols.items():
        values = np.full(len(out), np.nan)
        if scored.any():
            values[scored] = fn(ranks[scored], axis=1)
        out[col] = pd.array(values, dtype="Float64").round().astype("Int64")
    for col, q in (("rank_p05", 5), ("rank_p95", 95)):
        values = np.full(len(out), np.nan)
        if scored.any():
            values[scored] = np.nanpercentile(ranks[scored], q, axis=1)
        out[col] = pd.array(values, dtype="Float64")
    share = within.mean(axis=1)
    out["share_within_1"] = pd.array(np.where(scored, share, np.nan), dtype="Float64")
    out["n_draws"] = n_draws
    log.info(
        "rating sensitivity: %d draws, concentration %.1f, seed %d", n_draws, concentration, seed
    )
    return out


__all__ = [
    "DEFAULT_WEIGHTS",
    "district_rating",
    "rating_sensitivity",
    "standardised_indicators",
]
