"""The sections of the national reports: the republic's overview and one report per region.

Declared like every section (:class:`~coverage_analysis.report.sections.SectionSpec`:
catalog title, context inputs, render function) and registered in
:data:`~coverage_analysis.report.sections.SECTIONS`, so they take the one path of
:func:`~coverage_analysis.report.sections.show` (locale, title, "not available"). The
numbers come from the context of the national scope (``ctx.extras["region_rating"]``,
the district rating over all 216 units); the words from ``messages.json``.

- overview: the regions' rating table with the rank range under other weights and the
  ranking bars; choropleths of the regions (score) and of all districts (materials per
  10,000); where East Kazakhstan stands and why, in plain words;
- region report: the region's place among the regions, its districts among all districts
  of the republic and within the region, its monthly calendar.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from coverage_analysis import figures
from coverage_analysis.report.catalog import TEXT, message
from coverage_analysis.report.context import ReportContext
from coverage_analysis.report.render import (
    Section,
    Sections,
    figure_html,
    fmt,
    para,
    pct,
    table_html,
    text,
    using_lang,
)

#: The command-line option that chooses the national scope (named in "not available").
NATIONAL_OPTION = "--scope national"
#: The region the package was built for: the overview says where it stands and why.
FOCUS_REGION = "east_kazakhstan"
#: Indicators named in the plain-words "why" (the weakest and strongest of the region).
N_REASONS = 3
#: Indicators of the regions' rating shown in the table (catalog ``columns`` labels).
REGION_TABLE_COLUMNS: tuple[str, ...] = (
    "materials_per_10k",
    "channels_used",
    "internet_materials_per_10k",
    "share_districts_internet",
    "events_per_10k",
    "plan_fulfilment",
    "share_targeted_or_testimonial",
    "share_months_reported",
)
#: Indicators that are shares (shown as percent).
SHARE_INDICATORS = frozenset(
    {
        "plan_fulfilment",
        "share_districts_internet",
        "share_targeted_or_testimonial",
        "share_months_reported",
    }
)


def _national_only(ctx: ReportContext) -> None:
    """A national section in a region-scope report says so instead of failing."""
    from coverage_analysis.report.sections import Unavailable

    if ctx.scope != "national" or "region_id" not in ctx.districts:
        raise Unavailable(
            message("report", "national_scope_only", ctx.lang, option=NATIONAL_OPTION)
        )


def _rating(ctx: ReportContext) -> pd.DataFrame:
    from coverage_analysis.report.sections import Unavailable

    _national_only(ctx)
    table = ctx.extras.get("region_rating")
    if not isinstance(table, pd.DataFrame):
        raise Unavailable(
            ctx.problems.get(
                "region_rating",
                message("report", "national_scope_only", ctx.lang, option=NATIONAL_OPTION),
            )
        )
    return table


def _region_name(ctx: ReportContext, table: pd.DataFrame, region_id: str) -> str:
    column = "name_ru" if ctx.lang == "ru" else "name_en"
    row = table.loc[table["region_id"] == region_id, column]
    return str(row.iloc[0]) if len(row) else region_id


def _indicator_label(name: str, lang: str) -> str:
    return message("indicators", name, lang)


def _value(name: str, value: object) -> str:
    if pd.isna(value):
        return "—"
    if name in SHARE_INDICATORS:
        return pct(100.0 * float(value), 0, signed=False)
    return fmt(float(value), 0 if name == "channels_used" else 1)


def _rank_range(lo: object, hi: object) -> str:
    if pd.isna(lo) or pd.isna(hi):
        return "—"
    return f"{int(lo)}" if lo == hi else f"{int(lo)}–{int(hi)}"


def _region_kato_values(ctx: ReportContext, values: pd.Series) -> dict[str, float]:
    """Values by region id -> by the 2018 region KATO codes of the map (South Kazakhstan
    colours both Turkestan region and Shymkent)."""
    from coverage_analysis.reference.national import load_national_regions

    regions = load_national_regions()
    return {
        str(k): float(values.get(r, np.nan))
        for k, r in zip(regions["kato"], regions["campaign_region_id"], strict=True)
    }


# --------------------------------------------------------------------------------------------
# render functions


def _region_rating(ctx: ReportContext, region_id: str | None) -> list[str]:
    lang, w = ctx.lang, TEXT[ctx.lang]
    t = _rating(ctx)
    column = "name_ru" if lang == "ru" else "name_en"
    shown = pd.DataFrame(
        {
            w["rank"]: t["rank"],
            w["rank_range"]: [
                _rank_range(a, b) for a, b in zip(t["rank_min"], t["rank_max"], strict=True)
            ],
            message("report", "region", lang): t[column],
            w["score"]: t["score"].round(1),
            **{
                _indicator_label(c, lang): [_value(c, v) for v in t[c]]
                for c in REGION_TABLE_COLUMNS
                if c in t
            },
        }
    )
    ax = figures.plot_district_ranking(
        t.assign(name=t[column]),
        lang=lang,
        synthetic=ctx.synthetic,
        highlight=_region_name(ctx, t, region_id or FOCUS_REGION),
    )
    return [
        table_html(shown),
        para(text("region_rating_method", lang), "ca-muted"),
        figure_html(ax, "national_region_ranking", ctx.figures_dir),
    ]


def _region_map(ctx: ReportContext, region_id: str | None) -> list[str]:
    from coverage_analysis.maps import plot_choropleth

    t = _rating(ctx)
    values = _region_kato_values(ctx, t.set_index("region_id")["score"])
    ax = plot_choropleth(
        values,
        level="region",
        scope="national",
        metric_label=message("figures", "score", ctx.lang),
        lang=ctx.lang,
        synthetic=ctx.synthetic,
    )
    return [figure_html(ax, "national_region_map", ctx.figures_dir)]


def _district_map(ctx: ReportContext, region_id: str | None) -> list[str]:
    from coverage_analysis.maps import plot_choropleth

    _national_only(ctx)

    s = ctx.summary
    kato = ctx.districts.set_index("district_id")["kato"].astype(str)
    values = {
        str(int(float(kato[d]))): float(v)
        for d, v in zip(s["district_id"], s["per_10k"], strict=True)
        if d in kato.index
    }
    ax = plot_choropleth(
        values,
        level="district",
        scope="national",
        metric_label=message("figures", "materials_per_10k", ctx.lang),
        lang=ctx.lang,
        synthetic=ctx.synthetic,
    )
    name = f"region_{region_id}_district_map" if region_id else "national_district_map"
    return [figure_html(ax, name, ctx.figures_dir)]


def standing_sentences(ctx: ReportContext, region_id: str) -> list[str]:
    """Where ``region_id`` stands among the regions and why, in plain words: its rank and
    rank range, then its weakest and strongest indicators against the republic's median
    (by the indicators' percentile among the regions)."""
    lang = ctx.lang
    t = _rating(ctx)
    row = t.loc[t["region_id"] == region_id]
    if row.empty:
        from coverage_analysis.report.sections import Unavailable

        raise Unavailable(message("report", "region_not_rated", lang, region=region_id))
    r = row.iloc[0]
    name = _region_name(ctx, t, region_id)
    out = [
        message(
            "report",
            "standing_rank",
            lang,
            name=name,
            rank=fmt(r["rank"], 0),
            n=len(t),
            lo=fmt(r["rank_min"], 0),
            hi=fmt(r["rank_max"], 0),
            score=fmt(r["score"], 1),
        )
    ]
    from coverage_analysis.metrics.rating import standardised_indicators

    names = [c for c in REGION_TABLE_COLUMNS if c in t]
    pct_table = standardised_indicators(t.rename(columns={"region_id": "district_id"}), names)
    mine = pct_table.loc[region_id].dropna().sort_values()
    median = t[names].astype(float).median()

    def described(indicators: pd.Index) -> str:
        return "; ".join(
            message(
                "report",
                "standing_item",
                lang,
                indicator=_indicator_label(c, lang),
                value=_value(c, r[c]),
                median=_value(c, median[c]),
            )
            for c in indicators
        )

    weak = mine[mine < 0.5].head(N_REASONS).index
    strong = mine[mine > 0.5].sort_values(ascending=False).head(N_REASONS).index
    if len(weak):
        out.append(message("report", "standing_weak", lang, items=described(weak)))
    if len(strong):
        out.append(message("report", "standing_strong", lang, items=described(strong)))
    out.append(message("report", "standing_caveat", lang))
    return out


def _standing(ctx: ReportContext, region_id: str | None) -> list[str]:
    sentences = standing_sentences(ctx, region_id or FOCUS_REGION)
    return [para(html.escape(s)) for s in sentences]


def region_district_table(ctx: ReportContext, region_id: str) -> pd.DataFrame:
    """The region's districts: rank among all districts of the republic (the district
    rating over every unit) and rank within the region (the same rating over the region's
    units only), score, materials per 10,000 and plan fulfilment; sorted by the rank in the
    region."""
    from coverage_analysis.metrics import district_rating
    from coverage_analysis.report.sections import rating_table

    whole = rating_table(ctx)
    ids = set(ctx.districts.loc[ctx.districts["region_id"] == region_id, "district_id"])
    mine = whole.loc[whole["district_id"].isin(ids)].copy()
    indicators = ctx.extras.get("district_indicators")
    if isinstance(indicators, pd.DataFrame):
        inner = district_rating(indicators.loc[indicators["district_id"].isin(ids)])
        mine = mine.merge(
            inner[["district_id", "rank"]].rename(columns={"rank": "rank_in_region"}),
            on="district_id",
            how="left",
        )
    else:
        mine["rank_in_region"] = mine["rank"].rank(method="min").astype("Int64")
    return mine.sort_values(["rank_in_region", "district_id"]).reset_index(drop=True)


def _region_districts(ctx: ReportContext, region_id: str | None) -> list[str]:
    from coverage_analysis.report.sections import Unavailable, names

    _national_only(ctx)
    if region_id is None:
        raise Unavailable(
            message("report", "national_scope_only", ctx.lang, option=NATIONAL_OPTION)
        )
    lang, w = ctx.lang, TEXT[ctx.lang]
    t = region_district_table(ctx, region_id)
    n_all = int(ctx.summary["district_id"].nunique())
    shown = pd.DataFrame(
        {
            message("report", "rank_in_region", lang): t["rank_in_region"],
            message("report", "rank_republic", lang, n=n_all): t["rank"],
            w["rank_range"]: [
                _rank_range(a, b) for a, b in zip(t["rank_min"], t["rank_max"], strict=True)
            ],
            w["district"]: names(ctx, t),
            w["score"]: t["score"].round(1),
            w["per_10k"]: t["per_10k"].round(2),
            w["plan_fulfilment"] + ", %": t["fulfilment_pct"].round(0),
        }
    )
    ax = figures.plot_district_ranking(
        t.assign(name=names(ctx, t)), lang=lang, synthetic=ctx.synthetic
    )
    return [
        para(text("region_districts_text", lang, n=len(t), total=n_all)),
        table_html(shown),
        figure_html(ax, f"region_{region_id}_ranking", ctx.figures_dir),
    ]


def _region_calendar(ctx: ReportContext, region_id: str | None) -> list[str]:
    _national_only(ctx)
    ids = set(ctx.districts.loc[ctx.districts["region_id"] == region_id, "district_id"])
    frame = ctx.panel.loc[ctx.panel["district_id"].isin(ids)]
    cols = figures.channel_columns(frame)
    data = frame.groupby("month", as_index=False)[cols].sum(min_count=1)
    data = data.astype({c: "float64" for c in cols})
    ax = figures.plot_calendar(data, lang=ctx.lang, synthetic=ctx.synthetic)
    return [figure_html(ax, f"region_{region_id}_calendar", ctx.figures_dir)]


def _region_forest(ctx: ReportContext, region_id: str | None) -> list[str]:
    """The region's districts' own slopes around the republic's pooled estimate (the
    overview shows the regions instead of 216 districts)."""
    from coverage_analysis.report.model_sections import forest_parts
    from coverage_analysis.report.sections import Unavailable

    _national_only(ctx)
    if ctx.model is None or "district_effects" not in ctx.extras:
        raise Unavailable(ctx.problems.get("district_effects") or ctx.problems.get("model") or "")
    ids = ctx.districts.loc[ctx.districts["region_id"] == region_id, "district_id"]
    pooled = ctx.model.to_dict().get("coverage_effect", {})
    return forest_parts(
        ctx, pooled, ids, f"region_{region_id}_forest", note="forest_text_national"
    )[1:]  # the section's own title replaces the sub-heading


def _regions_model(ctx: ReportContext, _region_id: str | None) -> list[str]:
    """The pooled association of all districts beside each region's own (same decay rule,
    clustered by district); a region too small to fit is named, not estimated."""
    from coverage_analysis.report.sections import Unavailable

    _national_only(ctx)
    national = ctx.extras.get("national_model")
    if national is None:
        raise Unavailable(ctx.problems.get("model") or "model not fitted")
    from coverage_analysis.reference.national import region_names

    lang = ctx.lang
    t = national.table
    fitted = t[t["status"] == "ok"]
    names = region_names()
    regions = t[(t["scope"] == "region") & (t["status"] != "ok")]
    with using_lang(lang):
        shown = pd.DataFrame(
            {
                message("report", "region", lang): [
                    message("report", "all_regions", lang)
                    if s != "region"
                    else _region_name(ctx, names, r)
                    for s, r in zip(fitted["scope"], fitted["region"], strict=True)
                ],
                message("columns", "estimate", lang): [pct(v) for v in fitted["estimate"]],
                message("report", "interval_95", lang): [
                    f"{pct(lo)} … {pct(hi)}"
                    for lo, hi in zip(fitted["ci_low"], fitted["ci_high"], strict=True)
                ],
                message("columns", "p_value", lang): [fmt(v, 3) for v in fitted["p_value"]],
                message("columns", "p_holm_regions", lang): [
                    "" if pd.isna(v) else fmt(v, 3) for v in fitted["p_holm_regions"]
                ],
                message("columns", "n_districts", lang): fitted["n_districts"].astype(int),
                message("columns", "effective_clusters", lang): [
                    fmt(v, 1) for v in fitted["effective_clusters"]
                ],
            }
        )
    parts = [para(text("regions_model_text", lang)), table_html(shown)]
    if len(regions):
        parts.append(
            para(
                text(
                    "regions_model_not_fitted",
                    lang,
                    names=", ".join(_region_name(ctx, names, r) for r in regions["region"]),
                ),
                "ca-muted",
            )
        )
    return parts


def register() -> None:
    """Add the national sections to :data:`~coverage_analysis.report.sections.SECTIONS`."""
    from coverage_analysis.report.sections import SECTIONS, SectionSpec

    SECTIONS.update(
        {
            "region_rating": SectionSpec("region_rating", (), _region_rating),
            "region_map": SectionSpec("region_map", (), _region_map),
            "national_district_map": SectionSpec(
                "national_district_map", ("summary",), _district_map
            ),
            "standing": SectionSpec(
                "standing", (), _standing, lambda ctx: {"name": _focus_name(ctx)}
            ),
            "region_standing": SectionSpec("region_standing", (), _standing),
            "region_districts": SectionSpec("region_districts", ("summary",), _region_districts),
            "region_calendar": SectionSpec("calendar", ("panel",), _region_calendar),
            "region_forest": SectionSpec("forest", ("panel",), _region_forest),
            "regions_model": SectionSpec("regions_model", ("panel",), _regions_model),
        }
    )


def _focus_name(ctx: ReportContext) -> str:
    table = ctx.extras.get("region_rating")
    if isinstance(table, pd.DataFrame):
        return _region_name(ctx, table, FOCUS_REGION)
    return FOCUS_REGION


# --------------------------------------------------------------------------------------------
# the functions the notebooks call


def national_header(ctx: ReportContext, region_id: str | None = None) -> Section:
    """Title, synthetic-data notice and period of the overview (or of one region's report)."""
    from coverage_analysis.report.sections import header

    sec = header(ctx, "national")
    if region_id is not None:
        from coverage_analysis.reference.national import region_names

        regions = region_names()
        with using_lang(ctx.lang):
            name = _region_name(ctx, regions, region_id)
        sec.title = message("report", "region_report_title", ctx.lang, name=name)
    return sec


def national_overview(ctx: ReportContext) -> Sections:
    """All sections of the national overview, in order."""
    from coverage_analysis.report.sections import data_quality_section, model_section, show

    return Sections(
        [
            national_header(ctx),
            show(ctx, "region_rating"),
            show(ctx, "standing"),
            show(ctx, "region_map"),
            show(ctx, "national_district_map"),
            model_section(ctx),
            show(ctx, "regions_model"),
            data_quality_section(ctx),
        ]
    )


def region_report(ctx: ReportContext, region_id: str) -> Sections:
    """All sections of one region's report, in order."""
    from coverage_analysis.report.sections import show

    region_id = validate_region(region_id)
    return Sections(
        [
            national_header(ctx, region_id),
            show(ctx, "region_standing", region_id),
            show(ctx, "region_districts", region_id),
            show(ctx, "region_calendar", region_id),
            show(ctx, "region_forest", region_id),
        ]
    )


def validate_region(value: object) -> str:
    """``value`` when it is a region id of the 2014-2016 division, else
    :class:`ParameterError` listing them.

    >>> validate_region("east_kazakhstan")
    'east_kazakhstan'
    """
    from coverage_analysis.errors import ParameterError
    from coverage_analysis.reference.national import region_names

    ids = region_names()["region_id"].tolist()
    if value not in ids:
        raise ParameterError(f"unknown region id {value!r}; known ids: {', '.join(ids)}")
    return str(value)


__all__ = [
    "FOCUS_REGION",
    "national_header",
    "national_overview",
    "region_district_table",
    "region_report",
    "register",
    "standing_sentences",
    "validate_region",
]
