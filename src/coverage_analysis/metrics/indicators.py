"""Coverage indicators: one row per district over a period.

Every indicator is computed from the district × month panel
(:func:`coverage_analysis.panel.build_panel`) and, for plan fulfilment by
channel, the media plan. Counts are summed over the *reported* months only
(``is_reported``); a district with no reported month gets NA for every
count, share and flag (unknown), never 0. Zero materials means registries
covered the district and listed nothing.

Definitions
-----------
- ``materials``, ``materials_<channel>``: materials in reported months;
  ``*_per_10k``: per 10,000 residents (mean population of the period).
- ``reach``: sum of known reach; ``reach_per_resident`` = reach / population.
- ``social_posts``, ``social_users_reached``: from the social-media reach
  reports (NA when the district has none).
- ``channels_used``: channels with at least one material, out of
  ``channels_total`` = ``len(domain.CHANNELS)``.
- ``has_online``, ``has_social``: any material on the channel (for social
  also any post in the social-media reach reports); ``has_internet``: either.
- ``internet_materials``: materials on :data:`domain.INTERNET_CHANNELS`, also per 10k.
- ``events``: materials on :data:`domain.EVENT_CHANNELS` (seminars, round
  tables, open days, briefings), also per 10k.
- ``share_targeted``, ``share_testimonial``: share of materials of that format;
  ``share_targeted_or_testimonial``: of either.
- ``share_kk``, ``share_ru``: share of materials of known language in Kazakh
  (resp. Russian); bilingual ("both") counts for each.
- ``plan_fulfilment``: materials / planned, both over the months that have a
  plan row *and* a registry (so unreported months are not read as zero);
  ``plan_fulfilment_<channel>`` likewise per channel (NA where the channel was
  not planned). ``plan_fulfilment_self_reported``: the plan's own ``факт``
  column / planned, over the plan rows where ``факт`` is given.
- ``last_material_month``; ``months_since_last_material``: months from the
  last month with a material to the period's end (0 = material in the last
  month; no material in the period = ``months_in_period``);
  ``reported_months_since_last_material``: how many of those months were
  reported (the silence that is known, not assumed).
- ``months_reported`` / ``months_in_period`` = ``share_months_reported``.

>>> from coverage_analysis.tables import CleanTables
>>> pubs = pd.DataFrame({"district_id": ["ayagoz"] * 2, "channel": ["print", "social"],
...     "month": pd.to_datetime(["2016-01-01", "2016-02-01"]), "format": ["news", "targeted"],
...     "source_file": "a.xlsx", "source_sheet": "1"})
>>> ind = district_indicators(CleanTables(publications=pubs), "2016-01", "2016-03")
>>> r = ind.set_index("district_id").loc["ayagoz"]
>>> int(r.materials), float(r.share_targeted), int(r.months_since_last_material), bool(r.has_internet)
(2, 0.5, 1, True)
"""

from __future__ import annotations

import logging
import os

import pandas as pd

from coverage_analysis import domain
from coverage_analysis.panel import build_panel, period_months
from coverage_analysis.reference import load_districts
from coverage_analysis.tables import CleanTables, analysis_tables

log = logging.getLogger(__name__)

#: Reference columns copied into the indicator table (for labels in reports).
NAME_COLUMNS: tuple[str, ...] = ("name_en", "name_ru", "kind")


def _months_between(later: pd.Series, earlier: pd.Series) -> pd.Series:
    """Whole months from ``earlier`` to ``later`` (both month starts)."""
    return (later.dt.year - earlier.dt.year) * 12 + (later.dt.month - earlier.dt.month)


def _per_10k(count: pd.Series, population: pd.Series) -> pd.Series:
    return count.astype("Float64") / population * domain.PER_RESIDENTS


def _share(part: pd.Series, whole: pd.Series) -> pd.Series:
    """``part / whole`` with NA where ``whole`` is 0 or NA."""
    whole = whole.astype("Float64")
    return part.astype("Float64") / whole.where(whole > 0)


def plan_fulfilment_by_channel(
    tables: CleanTables, panel: pd.DataFrame, channels: tuple[str, ...] = domain.CHANNELS
) -> pd.DataFrame:
    """Per district: ``planned_<channel>`` over the period, and ``plan_fulfilment`` overall and
    per channel over the months with both a plan row and a registry (module docstring).

    >>> from coverage_analysis.tables import CleanTables
    >>> plan = pd.DataFrame({"district_id": ["ayagoz"] * 2, "channel": ["print", "tv"],
    ...     "month": pd.to_datetime(["2016-01-01"] * 2), "planned": [4.0, 1.0]})
    >>> pubs = pd.DataFrame({"district_id": ["ayagoz"], "channel": ["print"],
    ...     "month": pd.to_datetime(["2016-01-01"])})
    >>> t = CleanTables(publications=pubs, media_plan=plan)
    >>> f = plan_fulfilment_by_channel(t, build_panel(t, "2016-01", "2016-01"))
    >>> f.loc["ayagoz", ["plan_fulfilment", "plan_fulfilment_print", "plan_fulfilment_tv"]].tolist()
    [0.2, 0.25, 0.0]
    """
    ids = panel["district_id"].drop_duplicates().tolist()
    out = pd.DataFrame(index=pd.Index(ids, name="district_id"))
    plan = tables.media_plan
    cols = ["planned", "planned_in_reported_months", "plan_fulfilment"]
    cols += [f"planned_{c}" for c in channels] + [f"plan_fulfilment_{c}" for c in channels]
    cols += ["actual_reported", "plan_fulfilment_self_reported"]
    if plan is None or plan.empty:
        return out.reindex(columns=cols).astype("Float64")
    months = panel["month"].drop_duplicates()
    plan = plan.loc[plan["district_id"].isin(ids) & plan["month"].isin(months)]
    plan = plan.astype({"district_id": object, "channel": object})
    reported = panel.loc[panel["is_reported"], ["district_id", "month"]]
    plan = plan.merge(reported.assign(_rep=True), on=["district_id", "month"], how="left")
    plan["_rep"] = plan["_rep"].notna()
    planned_by = plan.pivot_table(
        index="district_id", columns="channel", values="planned", aggfunc="sum", observed=True
    )
    rep_plan = plan.loc[plan["_rep"]]
    rep_by = rep_plan.pivot_table(
        index="district_id", columns="channel", values="planned", aggfunc="sum", observed=True
    )
    # Actual materials over the months with a plan row and a registry
    plan_months = rep_plan[["district_id", "month"]].drop_duplicates()
    actual = panel.merge(plan_months, on=["district_id", "month"], how="inner")
    actual_by = actual.groupby("district_id")[[f"materials_{c}" for c in channels]].sum()
    actual_total = actual.groupby("district_id")["materials"].sum()

    out["planned"] = plan.groupby("district_id")["planned"].sum(min_count=1)
    out["planned_in_reported_months"] = rep_plan.groupby("district_id")["planned"].sum(min_count=1)
    out["plan_fulfilment"] = _share(actual_total.reindex(ids), out["planned_in_reported_months"])
    for c in channels:
        planned_c = planned_by[c] if c in planned_by.columns else pd.Series(dtype=float)
        rep_c = rep_by[c] if c in rep_by.columns else pd.Series(dtype=float)
        out[f"planned_{c}"] = planned_c.reindex(ids).astype("Float64")
        out[f"plan_fulfilment_{c}"] = _share(
            actual_by[f"materials_{c}"].reindex(ids), rep_c.reindex(ids)
        )
    if "actual_reported" in plan.columns:
        given = plan.loc[plan["actual_reported"].notna()]
        out["actual_reported"] = given.groupby("district_id")["actual_reported"].sum(min_count=1)
        out["plan_fulfilment_self_reported"] = _share(
            out["actual_reported"], given.groupby("district_id")["planned"].sum().reindex(ids)
        )
    return out.reindex(columns=cols).astype("Float64")


def district_indicators(
    tables_or_processed_dir: CleanTables | str | os.PathLike[str],
    start_month: str | pd.Timestamp | None = None,
    end_month: str | pd.Timestamp | None = None,
    panel: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per reference district with the indicators of the module docstring over
    ``start_month`` .. ``end_month`` (``"YYYY-MM"``; default the whole campaign).

    Pass ``panel`` (from :func:`build_panel` over the same period) to avoid rebuilding it.
    Raises :class:`ParameterError` for a period outside the campaign or with no months.
    """
    tables = analysis_tables(tables_or_processed_dir)
    months = period_months(start_month, end_month)
    if panel is None:
        panel = build_panel(tables, months[0], months[-1])
    else:
        panel = panel.loc[panel["month"].isin(months)]
    districts = load_districts().set_index("district_id")
    ids = panel["district_id"].drop_duplicates().tolist()
    g = panel.groupby("district_id", sort=False)
    out = pd.DataFrame(index=pd.Index(ids, name="district_id"))
    for col in NAME_COLUMNS:
        if col in districts.columns:
            out[col] = districts[col].reindex(ids)
    out["period_start"] = months[0]
    out["period_end"] = months[-1]
    out["months_in_period"] = len(months)
    out["months_reported"] = g["is_reported"].sum().astype("int64")
    out["share_months_reported"] = out["months_reported"] / len(months)
    out["population"] = g["population"].mean()
    any_reported = out["months_reported"] > 0

    count_cols = ["materials", *(f"materials_{c}" for c in domain.CHANNELS)]
    count_cols += [f"materials_format_{f}" for f in domain.FORMATS]
    count_cols += [f"materials_lang_{lang}" for lang in domain.LANGUAGES]
    sums = g[count_cols].sum(min_count=1).astype("Int64")
    sums = sums.where(any_reported.reindex(sums.index), pd.NA)
    out["materials"] = sums["materials"]
    out["materials_per_10k"] = _per_10k(out["materials"], out["population"])
    for c in domain.CHANNELS:
        out[f"materials_{c}"] = sums[f"materials_{c}"]
    for c in domain.CHANNELS:
        out[f"materials_{c}_per_10k"] = _per_10k(sums[f"materials_{c}"], out["population"])
    out["reach"] = g["reach"].sum(min_count=1).astype("Int64")
    out["reach_per_resident"] = out["reach"].astype("Float64") / out["population"]
    out["social_posts"] = g["social_posts"].sum(min_count=1).astype("Int64")
    out["social_users_reached"] = g["social_users_reached"].sum(min_count=1).astype("Float64")

    used = pd.concat([sums[f"materials_{c}"] > 0 for c in domain.CHANNELS], axis=1)
    out["channels_used"] = used.sum(axis=1).astype("Int64").where(any_reported, pd.NA)
    out["channels_total"] = len(domain.CHANNELS)
    social_posted = out["social_posts"].fillna(0) > 0
    out["has_online"] = (sums["materials_online"] > 0).astype("boolean")
    out["has_social"] = ((sums["materials_social"] > 0) | social_posted).astype("boolean")
    out.loc[~any_reported & ~social_posted, "has_social"] = pd.NA
    out["has_internet"] = (out["has_online"] | out["has_social"]).astype("boolean")
    internet = sums[[f"materials_{c}" for c in domain.INTERNET_CHANNELS]].sum(axis=1, min_count=1)
    out["internet_materials"] = internet.astype("Int64").where(any_reported, pd.NA)
    out["internet_materials_per_10k"] = _per_10k(out["internet_materials"], out["population"])
    events = sums[[f"materials_{c}" for c in domain.EVENT_CHANNELS]].sum(axis=1, min_count=1)
    out["events"] = events.astype("Int64").where(any_reported, pd.NA)
    out["events_per_10k"] = _per_10k(out["events"], out["population"])

    for f in ("targeted", "testimonial"):
        out[f"materials_{f}"] = sums[f"materials_format_{f}"]
        out[f"share_{f}"] = _share(sums[f"materials_format_{f}"], sums["materials"])
    out["share_targeted_or_testimonial"] = _share(
        sums["materials_format_targeted"] + sums["materials_format_testimonial"], sums["materials"]
    )
    lang = sums[[f"materials_lang_{lang}" for lang in domain.LANGUAGES]]
    known = lang.sum(axis=1, min_count=1)
    out["materials_known_language"] = known.astype("Int64")
    out["share_kk"] = _share(sums["materials_lang_kk"] + sums["materials_lang_both"], known)
    out["share_ru"] = _share(sums["materials_lang_ru"] + sums["materials_lang_both"], known)

    out = out.join(plan_fulfilment_by_channel(tables, panel))

    with_material = panel.loc[panel["materials"].fillna(0) > 0]
    last = with_material.groupby("district_id")["month"].max().reindex(ids)
    out["last_material_month"] = last
    since = _months_between(pd.Series(months[-1], index=out.index), last)
    since = since.astype("Float64").fillna(float(len(months))).where(any_reported, pd.NA)
    out["months_since_last_material"] = since.astype("Int64")
    # Reported months after the last material (or in the period, when none): known silence
    after = panel.assign(_last=panel["district_id"].map(last))
    after = after.loc[
        after["is_reported"] & (after["_last"].isna() | (after["month"] > after["_last"]))
    ]
    silent = after.groupby("district_id").size().reindex(ids).fillna(0).astype("int64")
    out["reported_months_since_last_material"] = silent.astype("Int64").where(any_reported, pd.NA)
    log.info("indicators: %d districts, %s .. %s", len(out), months[0].date(), months[-1].date())
    return out.reset_index()


__all__ = ["district_indicators", "plan_fulfilment_by_channel"]
