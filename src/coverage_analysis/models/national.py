"""The republic's coverage model: all districts pooled, and each region beside it.

Why both. The pooled model -- every district of the republic, district and month
fixed effects, inference clustered by district (the CV3 jackknife with the decay
re-profiled, the randomisation test, the placebo leads of
:func:`~coverage_analysis.models.coverage.fit_coverage_model`) -- gives one
association with about 200 clusters, so its interval is narrow and its
inference is reliable. But it averages regions that ran their campaigns
differently; a region's analysts need to see whether the association holds
in their own districts. So each region is fitted on its own districts
(its own month effects: regions had their own calendars of events) at the
pooled model's decay, and shown beside the pooled row with its interval and
its number of districts and effective clusters. A region with few districts
has a wide interval and few effective clusters; the table says so instead of
hiding the row. A region whose model cannot be fitted (too few usable
district-months) keeps its row, with the reason in ``status`` and no numbers.

Everything is an association, not an effect (``CAVEAT``); the region rows are
separate tests, so one of sixteen below 5% is expected by chance alone (the
table gives Holm-adjusted p-values over the regions too).

Fitting all 216 districts is what the HDFE solver of :mod:`._ppml` is for (one
full pooled fit in a few seconds instead of about 25 s with the dense solve).

>>> from coverage_analysis.models.simulate import simulate_national_panel
>>> panel = simulate_national_panel("effect", seed=3, n_districts=40, beta=0.8)
>>> res = fit_national_model(panel, n_boot=99, n_perm=99, decay=0.4)
>>> res.table["region"].tolist()[0], int(res.table.loc[1:, "n_districts"].sum())
('republic', 40)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from coverage_analysis.errors import SchemaError
from coverage_analysis.models import coverage as _cov
from coverage_analysis.models._ppml import ConvergenceError
from coverage_analysis.models.channels import holm

log = logging.getLogger(__name__)

#: ``region`` value of the pooled row of the table.
REPUBLIC = "republic"
#: Name of the pooled row by language.
REPUBLIC_NAME: dict[str, str] = {"en": "Republic of Kazakhstan", "ru": "Республика Казахстан"}
#: Panel column that may carry each district's region.
REGION_COLUMN = "region_id"
#: Columns of :attr:`NationalModelResult.table`, in order.
TABLE_COLUMNS: tuple[str, ...] = (
    "scope",
    "region",
    "region_name",
    "estimate",
    "ci_low",
    "ci_high",
    "p_value",
    "p_value_method",
    "p_holm_regions",
    "beta",
    "beta_ci_low",
    "beta_ci_high",
    "n_districts",
    "effective_clusters",
    "n_obs",
    "decay",
    "placebo_flagged",
    "status",
)
#: ``status`` of a row whose model was fitted.
STATUS_OK = "ok"
#: Fewest districts a region needs for its own fit (the coverage model's minimum
#: number of clusters; with so few the interval is wide, and the table shows it).
MIN_REGION_DISTRICTS = _cov.MIN_MODEL_CLUSTERS
#: What the region rows are, in words (also in ``table.attrs["method"]``).
REGION_METHOD = (
    "each region fitted on its own districts (district and month fixed effects of its own) at "
    "the pooled model's carry-over decay, fixed before the region's slope is seen; CV3 "
    "jackknife interval over the region's districts with t(G-1) critical values; "
    "randomisation test within the region"
)


@dataclass
class NationalModelResult:
    """The pooled model (``pooled``: a full
    :class:`~coverage_analysis.models.coverage.CoverageModelResult`), each
    region's model (``regions``: region id -> result, fitted regions only) and
    the tidy ``table`` (columns :data:`TABLE_COLUMNS`: the pooled row first,
    then one row per region in region order) that a report displays."""

    outcome: str
    estimand: str
    pooled: _cov.CoverageModelResult
    regions: dict[str, _cov.CoverageModelResult]
    table: pd.DataFrame
    region_of: dict[str, str]
    seconds: float
    caveat: str = _cov.CAVEAT
    method: str = REGION_METHOD
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the pooled result, the table as records, the method."""
        records = self.table.astype(object).where(self.table.notna(), None)
        return _cov._jsonable(
            {
                "outcome": self.outcome,
                "estimand": self.estimand,
                "pooled": self.pooled.to_dict(),
                "by_region": records.to_dict(orient="records"),
                "method_regions": self.method,
                "caveat": self.caveat,
                "warnings": self.warnings,
                "seconds": self.seconds,
            }
        )


class RegionMappingError(SchemaError):
    """Districts of the panel whose region is not known (named in the message)."""


def region_of_districts(
    panel: pd.DataFrame, regions: Mapping[str, str] | pd.Series | None = None
) -> dict[str, str]:
    """Each district's region: ``regions`` if given (district id -> region id),
    else the panel's ``region_id`` column, else ``panel.attrs["regions"]``, else the
    ``region_id`` column of the district reference in use. Never guessed: a
    district without a region raises :class:`RegionMappingError` naming it.

    >>> p = pd.DataFrame({"district_id": ["a", "b", "region"]})
    >>> region_of_districts(p, {"a": "r1", "b": "r2"})
    {'a': 'r1', 'b': 'r2'}
    """
    ids = [str(d) for d in dict.fromkeys(panel["district_id"].astype(str)) if d != "region"]
    source: Mapping[str, str]
    if regions is not None:
        source = {str(k): str(v) for k, v in dict(regions).items()}
    elif REGION_COLUMN in panel.columns:
        pairs = panel.loc[panel["district_id"].astype(str) != "region"]
        pairs = pairs[["district_id", REGION_COLUMN]].dropna().astype(str).drop_duplicates()
        several = pairs["district_id"][pairs["district_id"].duplicated()].unique().tolist()
        if several:
            raise RegionMappingError(f"panel gives more than one region for districts {several}")
        source = dict(zip(pairs["district_id"], pairs[REGION_COLUMN], strict=True))
    elif panel.attrs.get("regions"):
        source = {str(k): str(v) for k, v in panel.attrs["regions"].items()}
    else:
        from coverage_analysis.reference import load_districts

        ref = load_districts()
        if REGION_COLUMN not in ref.columns:
            raise RegionMappingError(
                "no region for the districts: pass regions=, or give the panel a "
                f"{REGION_COLUMN!r} column, or use the national district reference"
            )
        source = dict(
            zip(ref["district_id"].astype(str), ref[REGION_COLUMN].astype(str), strict=True)
        )
    missing = [d for d in ids if d not in source or source[d] in ("", "nan")]
    if missing:
        shown = ", ".join(missing[:10]) + (
            f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        )
        raise RegionMappingError(f"no region known for districts {shown}")
    return {d: source[d] for d in ids}


def _region_names(lang: str) -> dict[str, str]:
    """Region id -> name of the 2014-2016 regions (``campaign_region_id``)."""
    from coverage_analysis.reference.national import campaign_regions

    col = "name_ru" if lang == "ru" else "name_en"
    regs = campaign_regions()
    return dict(zip(regs["campaign_region_id"].astype(str), regs[col].astype(str), strict=True))


def _row(
    scope: str, region: str, name: str, res: _cov.CoverageModelResult | None, status: str
) -> dict[str, Any]:
    if res is None:
        out: dict[str, Any] = dict.fromkeys(TABLE_COLUMNS, np.nan)
        out.update(scope=scope, region=region, region_name=name, status=status)
        out["p_value_method"] = None
        out["placebo_flagged"] = None
        return out
    e = res.coverage_effect
    return {
        "scope": scope,
        "region": region,
        "region_name": name,
        "estimate": e.estimate,
        "ci_low": e.ci_low,
        "ci_high": e.ci_high,
        "p_value": e.p_value,
        "p_value_method": e.p_value_method,
        "p_holm_regions": np.nan,
        "beta": e.beta,
        "beta_ci_low": e.beta_ci_low,
        "beta_ci_high": e.beta_ci_high,
        "n_districts": res.n_clusters,
        "effective_clusters": e.effective_clusters,
        "n_obs": res.n_obs,
        "decay": res.decay,
        "placebo_flagged": bool(res.placebo_flagged),
        "status": status,
    }


def fit_national_model(
    panel: pd.DataFrame,
    outcome: str = "applications",
    *,
    regions: Mapping[str, str] | pd.Series | None = None,
    estimand: str = _cov.DEFAULT_ESTIMAND,
    decay: float | None = None,
    n_boot: int = _cov.DEFAULT_N_BOOT,
    n_perm: int = _cov.DEFAULT_N_PERM,
    seed: int = _cov.DEFAULT_SEED,
    decay_grid: Sequence[float] = _cov.DECAY_GRID,
    sensitivity: bool = True,
    lang: str = "en",
) -> NationalModelResult:
    """The pooled model of ``outcome`` on all districts of ``panel`` (district and
    month fixed effects, inference clustered by district: see
    :func:`~coverage_analysis.models.coverage.fit_coverage_model`, whose arguments
    these are) and each region's own model at the pooled decay, with the tidy
    table of both (see :class:`NationalModelResult`). ``regions``: district id ->
    region id (default: see :func:`region_of_districts`); ``lang`` ("en"/"ru") the
    language of ``region_name``."""
    started = time.perf_counter()
    region_of = region_of_districts(panel, regions)
    pooled = _cov.fit_coverage_model(
        panel,
        outcome,
        estimand=estimand,
        decay=decay,
        n_boot=n_boot,
        n_perm=n_perm,
        seed=seed,
        decay_grid=decay_grid,
        sensitivity=sensitivity,
    )
    names = _region_names(lang)
    rows = [
        _row(REPUBLIC, REPUBLIC, REPUBLIC_NAME.get(lang, REPUBLIC_NAME["en"]), pooled, STATUS_OK)
    ]
    fitted: dict[str, _cov.CoverageModelResult] = {}
    warnings: list[str] = []
    district_col = panel["district_id"].astype(str)
    for region in dict.fromkeys(region_of.values()):
        members = [d for d, r in region_of.items() if r == region]
        name = names.get(region, region)
        if len(members) < MIN_REGION_DISTRICTS:
            rows.append(
                _row(
                    "region",
                    region,
                    name,
                    None,
                    f"not fitted: {len(members)} district(s), a region needs "
                    f"{MIN_REGION_DISTRICTS}",
                )
            )
            continue
        sub = panel.loc[district_col.isin(members)]
        try:
            res = _cov.fit_coverage_model(
                sub,
                outcome,
                estimand=estimand,
                decay=pooled.decay,
                n_boot=n_boot,
                n_perm=n_perm,
                seed=seed,
                sensitivity=False,
            )
        except (_cov.InsufficientDataError, ConvergenceError) as exc:
            rows.append(_row("region", region, name, None, f"not fitted: {exc}"))
            continue
        fitted[region] = res
        rows.append(_row("region", region, name, res, STATUS_OK))
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    ok = (table["scope"] == "region") & table["p_value"].notna()
    if ok.any():
        table.loc[ok, "p_holm_regions"] = holm(table.loc[ok, "p_value"].astype(float).tolist())
    table["n_districts"] = table["n_districts"].astype("Int64")
    table["n_obs"] = table["n_obs"].astype("Int64")
    table.attrs["method"] = REGION_METHOD
    table.attrs["caveat"] = _cov.CAVEAT
    few = table.loc[ok & (table["effective_clusters"] < 5), "region"].tolist()
    if few:
        warnings.append(
            f"regions {', '.join(map(str, few))}: fewer than 5 effective clusters, so their "
            "intervals are wide and rest on few districts"
        )
    seconds = time.perf_counter() - started
    log.info(
        "national model (%d districts, %d regions) in %.2f s",
        len(region_of),
        len(rows) - 1,
        seconds,
    )
    return NationalModelResult(
        outcome=outcome,
        estimand=estimand,
        pooled=pooled,
        regions=fitted,
        table=table,
        region_of=region_of,
        seconds=seconds,
        warnings=warnings,
    )


def national_association_table(
    panel: pd.DataFrame, outcome: str = "applications", **kwargs: Any
) -> pd.DataFrame:
    """The tidy table of :func:`fit_national_model` alone: the pooled row
    (``region == "republic"``) and one row per region with estimate, interval,
    p-values, districts and effective clusters."""
    return fit_national_model(panel, outcome, **kwargs).table


__all__ = [
    "MIN_REGION_DISTRICTS",
    "REPUBLIC",
    "TABLE_COLUMNS",
    "NationalModelResult",
    "RegionMappingError",
    "fit_national_model",
    "national_association_table",
    "region_of_districts",
]
