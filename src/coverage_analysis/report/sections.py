"""The sections of the reports, declared as data; the notebooks display them.

Each section is one :class:`SectionSpec`: the catalog key of its title, the context
inputs it needs (``summary``, ``panel``...) and a render function returning its HTML
parts. :func:`show` is the one path every section takes: it sets the report's locale
for numbers, titles the section and, when an input is missing or the render function
raises :class:`Unavailable`, shows the one "not available: reason" box instead of
failing, so a report always finishes. A section is therefore a few lines.

The model sections (association, what-if, diagnostics) live in
:mod:`~coverage_analysis.report.model_sections`; the context (load, fit, cache) in
:mod:`~coverage_analysis.report.context`; HTML and number helpers in
:mod:`~coverage_analysis.report.render`; every word in
:mod:`~coverage_analysis.report.catalog`. Their public names are re-exported here, so a
notebook needs ``from coverage_analysis.report import sections`` only.

>>> sorted(SECTIONS)[:3]
['briefing', 'calendar', 'cross_section']
"""

from __future__ import annotations

import functools
import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from coverage_analysis import domain, figures
from coverage_analysis.errors import CoverageAnalysisError
from coverage_analysis.report import model_sections
from coverage_analysis.report.catalog import TEXT, message, reject_reason
from coverage_analysis.report.context import (
    CACHE_ENV,
    MEMORY_CACHE_SIZE,
    MODEL_SUMMARY_FILE,
    ReportContext,
    district_summary,
    is_synthetic,
    load_context,
    names,
    need,
)
from coverage_analysis.report.model_sections import (
    ALPHA,
    channel_correlation,
    decay_sentence,
    model_verdict,
)
from coverage_analysis.report.render import (
    Section,
    Sections,
    figure_html,
    fmt,
    month,
    para,
    pct,
    share,
    table_html,
    text,
    unavailable,
    using_lang,
)

__all__ = [
    "ALPHA",
    "CACHE_ENV",
    "MEMORY_CACHE_SIZE",
    "MODEL_SUMMARY_FILE",
    "SECTIONS",
    "TEXT",
    "ReportContext",
    "Section",
    "SectionSpec",
    "Sections",
    "Unavailable",
    "channel_correlation",
    "decay_sentence",
    "district_report",
    "district_summary",
    "is_synthetic",
    "load_context",
    "model_verdict",
    "national_header",
    "national_overview",
    "national_region_report",
    "region_report",
    "show",
    "text",
]

#: Rejected rows listed in full in a district's data-quality section.
MAX_REJECT_ROWS = 15
#: Districts named in the overview's list of unreported months: a region's all, the
#: republic's (216) the most affected first, the rest counted.
MAX_UNREPORTED_LISTED = 20
#: Districts of the same kind shown beside a district as "similar" (closest population).
N_SIMILAR = 4


class Unavailable(Exception):
    """Raised by a render function: the section shows "not available: <reason>"."""

    def __init__(self, reason: object) -> None:
        super().__init__(str(reason))
        self.reason = reason


#: A render function: the context and the district (``None``: the region) -> HTML parts.
Render = Callable[[ReportContext, "str | None"], list[str]]


@dataclass(frozen=True)
class SectionSpec:
    """One section: title key in the catalog, context inputs it needs, render function."""

    title: str
    needs: tuple[str, ...]
    render: Render
    #: Values of the title's ``{}`` fields, from the context (``None``: no fields).
    title_values: Callable[[ReportContext], dict[str, object]] | None = None


def show(ctx: ReportContext, name: str, district_id: str | None = None) -> Section:
    """Section ``name`` of :data:`SECTIONS` for the region or one district: the one path
    that titles it, formats its numbers in the report's locale and says "not available"."""
    spec = SECTIONS[name]
    lang = ctx.lang
    with using_lang(lang):
        values = spec.title_values(ctx) if spec.title_values else {}
        sec = Section(message("report", spec.title, lang, **values))
        reason = need(ctx, *spec.needs)
        if reason:
            sec.parts.append(unavailable(reason, lang))
            return sec
        try:
            sec.parts.extend(spec.render(ctx, district_id))
        except Unavailable as exc:
            sec.parts.append(unavailable(exc.reason, lang))
        return sec


def _localized(func: Callable[..., object]) -> Callable[..., object]:
    """``func(ctx, ...)`` with numbers formatted in ``ctx.lang`` (the model sections)."""

    @functools.wraps(func)
    def wrapper(ctx: ReportContext, *args: object, **kwargs: object) -> object:
        with using_lang(ctx.lang):
            return func(ctx, *args, **kwargs)

    return wrapper


# --------------------------------------------------------------------------------------------
# header and tables shared with the runner


def header(ctx: ReportContext, kind: str = "region", district_id: str | None = None) -> Section:
    """Title, synthetic-data notice and the period of a report."""
    from coverage_analysis.report.params import validate_district

    lang = ctx.lang
    if kind == "district":
        district_id = validate_district(district_id)
    if kind == "district" and district_id is not None:
        title = message("report", "district_title", lang, name=ctx.name(district_id))
    else:
        title = message("report", f"{kind}_title", lang)
    parts = []
    if ctx.synthetic:
        parts.append(f"<div class='ca-notice'>{text('synthetic', lang)}</div>")
    months = ctx.months
    period = text(
        "period",
        lang,
        start=month(months[0], lang),
        end=month(months[-1], lang),
        folder=ctx.processed_dir.name,
    )
    parts.append(para(period, "ca-muted"))
    return Section(title, parts, level=1)


def rating_table(ctx: ReportContext) -> pd.DataFrame:
    """Per district: rating score and rank (``metrics.district_rating``; else rank on
    materials per 10,000 residents), the rank range under other weights, and the
    headline indicators; sorted by rank."""
    s = ctx.summary.copy()
    rating = ctx.extras.get("rating")
    if isinstance(rating, pd.DataFrame) and {"district_id", "score", "rank"} <= set(rating):
        s = s.drop(columns=["rank"]).merge(
            rating[["district_id", "score", "rank"]], on="district_id", how="left"
        )
    else:
        s["score"] = s["per_10k"]
    sens = ctx.extras.get("rating_sensitivity")
    if isinstance(sens, pd.DataFrame) and {"district_id", "rank_min", "rank_max"} <= set(sens):
        s = s.merge(sens[["district_id", "rank_min", "rank_max"]], on="district_id", how="left")
    else:
        s["rank_min"] = s["rank_max"] = s["rank"]
    return s.sort_values(["rank", "district_id"], na_position="last").reset_index(drop=True)


def _rank_range(row: pd.Series) -> str:
    lo, hi = row.get("rank_min"), row.get("rank_max")
    if pd.isna(lo) or pd.isna(hi):
        return "—"
    return f"{int(lo)}" if lo == hi else f"{int(lo)}–{int(hi)}"


def similar_districts(table: pd.DataFrame, district_id: str, n: int = N_SIMILAR) -> pd.DataFrame:
    """``district_id`` and the ``n`` districts closest to it in population (log scale),
    its own row first.

    >>> t = pd.DataFrame({"district_id": list("abcd"), "population": [10, 1000, 12, 20]})
    >>> similar_districts(t, "a", 2)["district_id"].tolist()
    ['a', 'c', 'd']
    """
    own = float(table.loc[table["district_id"] == district_id, "population"].iloc[0])
    distance = (np.log(table["population"].astype(float)) - math.log(own)).abs()
    order = distance.sort_values(kind="stable").index
    return table.loc[order].head(n + 1).reset_index(drop=True)


def _one(ctx: ReportContext, district_id: str) -> pd.Series:
    return ctx.summary.loc[ctx.summary["district_id"] == district_id].iloc[0]


def _percent_or_dash(value: object) -> str:
    return "—" if pd.isna(value) else pct(value, 0, signed=False)


# --------------------------------------------------------------------------------------------
# render functions: context (+ district) -> HTML parts


def _rating(ctx: ReportContext, district_id: str | None) -> list[str]:
    w, s = TEXT[ctx.lang], rating_table(ctx)
    shown = pd.DataFrame(
        {
            w["rank"]: s["rank"],
            w["rank_range"]: s.apply(_rank_range, axis=1),
            w["district"]: names(ctx, s),
            w["score"]: s["score"],
            w["per_10k"]: s["per_10k"],
            w["materials"]: s["materials"].round().astype("Int64"),
            w["applications"]: s["applications"].round().astype("Int64"),
            w["plan_fulfilment"] + ", %": s["fulfilment_pct"],
        }
    )
    ax = figures.plot_district_ranking(
        s.assign(name=names(ctx, s)), lang=ctx.lang, synthetic=ctx.synthetic
    )
    return [
        table_html(shown),
        para(text("rating_method", ctx.lang), "ca-muted"),
        figure_html(ax, "region_ranking", ctx.figures_dir),
    ]


def _heatmap(ctx: ReportContext, district_id: str | None) -> list[str]:
    s = ctx.summary.set_index(names(ctx, ctx.summary))
    cols = [c for c in domain.CHANNELS if c in s.columns]
    ax = figures.plot_channel_heatmap(s[cols], lang=ctx.lang, synthetic=ctx.synthetic)
    return [figure_html(ax, "region_channel_heatmap", ctx.figures_dir)]


def _calendar(ctx: ReportContext, district_id: str | None) -> list[str]:
    frame = ctx.panel
    if district_id is not None:
        frame = frame.loc[frame["district_id"] == district_id]
    else:
        region = ctx.extras.get("region_materials")
        if isinstance(region, pd.DataFrame):
            frame = pd.concat([frame, region], ignore_index=True)
    cols = figures.channel_columns(frame)
    data = frame[["month", *cols]].astype({c: "float64" for c in cols})
    # months no registry reported (unknown, not zero) are shaded in the figure
    reported = ctx.panel if district_id is None else frame
    unreported = figures.unreported_months(reported)
    name = f"district_{district_id}_calendar" if district_id else "region_calendar"
    ax = figures.plot_calendar(data, lang=ctx.lang, synthetic=ctx.synthetic, unreported=unreported)
    return [figure_html(ax, name, ctx.figures_dir)]


def _map(ctx: ReportContext, district_id: str | None) -> list[str]:
    s = ctx.summary.assign(name=names(ctx, ctx.summary), coverage_per_10k=ctx.summary["per_10k"])
    ax = figures.plot_district_map(s, lang=ctx.lang, synthetic=ctx.synthetic)
    return [figure_html(ax, "region_map", ctx.figures_dir)]


def _plan(ctx: ReportContext, district_id: str | None) -> list[str]:
    lang = ctx.lang
    plan = getattr(ctx.tables, "media_plan", None)
    if plan is None:
        raise Unavailable(ctx.problems.get("tables", message("report", "no_media_plan", lang)))
    parts = []
    if district_id is None:
        s = ctx.summary
        data = s.assign(name=names(ctx, s), actual=s["materials"])[["name", "planned", "actual"]]
        name = "region_plan_vs_actual"
    else:
        months = ctx.months
        p = plan.loc[plan["month"].between(months[0], months[-1])]
        p = p.loc[p["district_id"] == district_id]
        planned = p.groupby("channel")["planned"].sum(min_count=1).astype(float)
        rows = ctx.panel.loc[ctx.panel["district_id"] == district_id]
        actual = pd.Series(
            {
                c: float(rows[f"materials_{c}"].sum())
                for c in domain.CHANNELS
                if f"materials_{c}" in rows
            }
        )
        keep = sorted(
            set(planned.index) | set(actual[actual > 0].index),
            key=lambda c: domain.CHANNELS.index(c) if c in domain.CHANNELS else 99,
        )
        data = pd.DataFrame(
            {
                "name": [figures.channel_label(c, lang) for c in keep],
                "planned": [planned.get(c, np.nan) for c in keep],
                "actual": [actual.get(c, 0.0) for c in keep],
            }
        )
        one = _one(ctx, district_id)
        parts.append(
            para(
                text(
                    "plan_text",
                    lang,
                    planned=fmt(one["planned"], 0),
                    actual=fmt(one["materials"], 0),
                    pct=_percent_or_dash(one["fulfilment_pct"]),
                )
            )
        )
        name = f"district_{district_id}_plan_vs_actual"
    if data.empty:
        raise Unavailable(message("report", "no_plan_rows", lang))
    ax = figures.plot_plan_vs_actual(data, lang=lang, synthetic=ctx.synthetic)
    return [*parts, figure_html(ax, name, ctx.figures_dir)]


def _cross_section(ctx: ReportContext, district_id: str | None) -> list[str]:
    lang = ctx.lang
    s = ctx.summary.assign(name=names(ctx, ctx.summary), coverage_per_10k=ctx.summary["per_10k"])
    parts = [para(text("cross_text", lang))]
    cross = ctx.extras.get("cross_section")
    if isinstance(cross, dict) and cross.get("spearman_rho") is not None:
        values = {
            k: fmt(cross.get(c), 2)
            for k, c in (("rho", "spearman_rho"), ("lo", "ci_low"), ("hi", "ci_high"))
        }
        parts.append(
            para(
                text(
                    "spearman",
                    lang,
                    **values,
                    p=fmt(cross.get("p_value"), 3),
                    n=cross.get("n_districts", "—"),
                )
            )
        )
    ax = figures.plot_coverage_vs_applications(s, lang=lang, synthetic=ctx.synthetic)
    return [*parts, figure_html(ax, "region_cross_section", ctx.figures_dir)]


def _data_quality(ctx: ReportContext, district_id: str | None) -> list[str]:
    lang, w = ctx.lang, TEXT[ctx.lang]
    parts = []
    if ctx.panel is not None:
        rows = (
            ctx.panel
            if district_id is None
            else ctx.panel.loc[ctx.panel["district_id"] == district_id]
        )
        missing = rows.loc[~rows["is_reported"].astype(bool)]
        if district_id is None:
            per = missing.groupby("district_id").size()
            shown = (
                per
                if len(per) <= MAX_UNREPORTED_LISTED
                else (per.sort_values(ascending=False, kind="stable").head(MAX_UNREPORTED_LISTED))
            )
            listing = ", ".join(f"{ctx.name(d)} {n}" for d, n in shown.items()) or w["none"]
            if len(shown) < len(per):
                listing = text("unreported_more", lang, listing=listing, n=len(per) - len(shown))
        else:
            listing = ", ".join(month(m, lang) for m in missing["month"]) or w["none"]
        parts.append(
            para(text("unreported", lang, n=len(missing), total=len(rows), months=listing))
        )
    rejects = getattr(ctx.tables, "rejects", None)
    if rejects is None:
        parts.append(
            unavailable(ctx.problems.get("tables", message("report", "no_rejects", lang)), lang)
        )
        return parts
    if district_id is None:
        parts.append(para(text("rejects_total", lang, n=len(rejects))))
        if len(rejects) and "reason" in rejects:
            by = rejects.groupby(["kind", "reason"] if "kind" in rejects else ["reason"]).size()
            top = by.rename("rows").reset_index().sort_values("rows", ascending=False)
            top["reason"] = [reject_reason(r, lang) for r in top["reason"]]
            parts.append(table_html(top.head(MAX_REJECT_ROWS)))
        return parts
    mine = district_rejects(ctx, district_id, rejects)
    parts.append(para(text("rejects_n", lang, n=len(mine))))
    if len(mine):
        keep = ("source_file", "source_sheet", "source_row", "field", "value", "reason")
        if "reason" in mine:
            mine = mine.assign(reason=[reject_reason(r, lang) for r in mine["reason"]])
        parts.append(table_html(mine[[c for c in keep if c in mine]].head(MAX_REJECT_ROWS)))
    parts.append(para(text("quality_method", lang), "ca-muted"))
    return parts


def district_rejects(ctx: ReportContext, district_id: str, rejects: pd.DataFrame) -> pd.DataFrame:
    """The rejected rows that concern a district: its ``district_id`` in ``rejects.csv``,
    a file holding its publications, or its name in the rejected value."""
    pubs = getattr(ctx.tables, "publications", None)
    files: set[str] = set()
    if pubs is not None and "source_file" in pubs:
        files = set(pubs.loc[pubs["district_id"] == district_id, "source_file"].dropna())
    ref = ctx.districts.loc[ctx.districts["district_id"] == district_id].iloc[0]
    stems = {str(ref[c]).lower()[:5] for c in ("name_ru", "name_kk", "name_en") if str(ref[c])}
    by_file = rejects["source_file"].isin(files) if "source_file" in rejects else False
    by_id = (
        rejects["district_id"].eq(district_id).fillna(False) if "district_id" in rejects else False
    )
    value = rejects.get("value", pd.Series("", index=rejects.index)).astype(str).str.lower()
    by_name = value.apply(lambda v: any(s and s in v for s in stems))
    return rejects.loc[by_file | by_id | by_name]


def _headline(ctx: ReportContext, district_id: str | None) -> list[str]:
    lang, s = ctx.lang, ctx.summary
    one = _one(ctx, district_id)
    rank = rating_table(ctx).set_index("district_id").loc[district_id, "rank"]
    items = [
        (text("materials", lang), fmt(one["materials"], 0)),
        (text("per_10k", lang), fmt(one["per_10k"], 1)),
        (text("applications", lang), fmt(one["applications"], 0)),
        (text("amount", lang), fmt(one["amount_kzt"] / 1e6, 1)),
        (text("plan_fulfilment", lang), _percent_or_dash(one["fulfilment_pct"])),
        (text("rank", lang), f"{fmt(rank, 0)} / {len(s)}"),
    ]
    return [f"<div class='ca-headline'><b>{html.escape(v)}</b>{k}</div>" for k, v in items]


def _gaps(ctx: ReportContext, district_id: str | None) -> list[str]:
    findings = gap_findings(ctx, district_id)
    if not findings:
        return [para(text("no_gaps", ctx.lang))]
    return ["<ul>" + "".join(f"<li>{html.escape(f)}</li>" for f in findings) + "</ul>"]


def gap_findings(ctx: ReportContext, district_id: str) -> list[str]:
    """A district's gaps in plain words: :func:`coverage_analysis.metrics.gap_findings`
    when available, else channel checks (unused channels, no internet, below the
    region's median, plan shortfall) worded from the catalog."""
    found = ctx.extras.get(f"gaps_{ctx.lang}")
    if isinstance(found, pd.DataFrame) and {"district_id", "message"} <= set(found.columns):
        return found.loc[found["district_id"] == district_id, "message"].astype(str).tolist()
    lang = ctx.lang
    one = _one(ctx, district_id)
    out = []
    zero = [figures.channel_label(c, lang) for c in domain.CHANNELS if c in one and one[c] == 0]
    internet = [c for c in domain.INTERNET_CHANNELS if c in one and one[c] == 0]
    if len(internet) == len(domain.INTERNET_CHANNELS):
        out.append(message("report", "gap_no_internet", lang))
    elif internet:
        out.append(
            message(
                "report", "gap_no_channel", lang, channel=figures.channel_label(internet[0], lang)
            )
        )
    if zero:
        out.append(message("report", "gap_channels_unused", lang, channels=", ".join(zero)))
    median = ctx.summary["per_10k"].median()
    if pd.notna(one["per_10k"]) and one["per_10k"] < median:
        out.append(
            message(
                "report",
                "gap_below_median",
                lang,
                value=fmt(one["per_10k"], 1),
                median=fmt(median, 1),
            )
        )
    if pd.notna(one["fulfilment_pct"]) and one["fulfilment_pct"] < 100:
        out.append(
            message("report", "gap_plan", lang, pct=pct(one["fulfilment_pct"], 0, signed=False))
        )
    return out


def _ranking(ctx: ReportContext, district_id: str | None) -> list[str]:
    lang, w = ctx.lang, TEXT[ctx.lang]
    s = rating_table(ctx)
    one = s.loc[s["district_id"] == district_id].iloc[0]
    rank = "—" if pd.isna(one["rank"]) else int(one["rank"])
    lo, hi = one.get("rank_min"), one.get("rank_max")
    fixed = not (pd.isna(lo) or pd.isna(hi)) and lo == hi
    peers = similar_districts(s, district_id)
    table = pd.DataFrame(
        {
            w["district"]: names(ctx, peers),
            w["population"]: peers["population"].round().astype("Int64"),
            w["rank"]: peers["rank"],
            w["per_10k"]: peers["per_10k"],
            w["applications_per_10k"]: peers["applications_per_10k"],
            w["plan_fulfilment"] + ", %": peers["fulfilment_pct"],
        }
    )
    shown = s
    within: list[str] = []
    if ctx.scope == "national":  # the bars: the district's own region (216 bars say little)
        from coverage_analysis.report.national_sections import region_district_table

        region_id = ctx.districts.set_index("district_id").loc[district_id, "region_id"]
        shown = region_district_table(ctx, region_id)
        inner = shown.loc[shown["district_id"] == district_id, "rank_in_region"].iloc[0]
        within = [para(text("rank_in_region_text", lang, rank=fmt(inner, 0), n=len(shown)))]
    ax = figures.plot_district_ranking(
        shown.assign(name=names(ctx, shown)),
        lang=lang,
        synthetic=ctx.synthetic,
        highlight=ctx.name(district_id),
    )
    return [
        para(text("rank_text", lang, name=ctx.name(district_id), rank=rank, n=len(s))),
        *within,
        para(text("sensitivity_fixed" if fixed else "sensitivity", lang, ranks=_rank_range(one))),
        f"<h3>{text('similar', lang)}</h3>",
        table_html(table, float_format="{:,.1f}"),
        para(text("rating_method", lang), "ca-muted"),
        figure_html(ax, f"district_{district_id}_ranking", ctx.figures_dir),
    ]


def _briefing_value(key: str, value: object) -> str:
    """One briefing number as text: shares as percent, amounts and counts as whole numbers.

    >>> _briefing_value("plan.fulfilment", 0.104), _briefing_value("reach.cumulative", None)
    ('10%', '—')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, str):
        return value  # escaped by table_html
    if key.startswith("plan.fulfilment"):
        return share(value)
    if key in ("materials.per_10k", "rating.score"):
        return fmt(value, 1)
    return fmt(value, 0)


def _briefing(ctx: ReportContext, district_id: str | None) -> list[str]:
    from coverage_analysis.metrics import akim_briefing, briefing_table

    lang = ctx.lang
    try:
        briefing = akim_briefing(
            ctx.tables,
            district_id,
            ctx.months[-1].strftime("%Y-%m"),
            lang=lang,
            start_month=ctx.months[0],
            panel=ctx.panel,  # the report's own period: built once per batch
        )
    except CoverageAnalysisError as exc:
        raise Unavailable(exc) from exc
    table = briefing_table(briefing)
    table["value"] = [
        _briefing_value(k, v) for k, v in zip(table["key"], table["value"], strict=True)
    ]
    heads = {"item": TEXT[lang]["item"], "value": TEXT[lang]["value"]}
    return [
        para(text("briefing_text", lang), "ca-muted"),
        table_html(table.drop(columns="key").rename(columns=heads)),
    ]


#: Every section of the reports: name -> title key, needed context inputs, render function.
SECTIONS: dict[str, SectionSpec] = {
    "rating": SectionSpec("rating", ("summary",), _rating),
    "heatmap": SectionSpec("heatmap", ("summary",), _heatmap),
    "calendar": SectionSpec("calendar", ("panel",), _calendar),
    "map": SectionSpec("map", ("summary",), _map),
    "plan": SectionSpec("plan", ("summary",), _plan),
    "cross_section": SectionSpec("cross_section", ("summary",), _cross_section),
    "data_quality": SectionSpec("quality", (), _data_quality),
    "headline": SectionSpec("headline", ("summary",), _headline),
    "gaps": SectionSpec("gaps", ("summary",), _gaps),
    "ranking": SectionSpec("ranking", ("summary",), _ranking),
    "briefing": SectionSpec(
        "briefing", ("tables",), _briefing, lambda ctx: {"month": month(ctx.months[-1], ctx.lang)}
    ),
}


# --------------------------------------------------------------------------------------------
# the functions the notebooks call


def rating_section(ctx: ReportContext) -> Section:
    """Region: the district rating table (score, rank, rank range) and ranking bars."""
    return show(ctx, "rating")


def heatmap_section(ctx: ReportContext) -> Section:
    """Region: district × channel heat map per 10,000 residents."""
    return show(ctx, "heatmap")


def calendar_section(ctx: ReportContext, district_id: str | None = None) -> Section:
    """Monthly materials by channel against the campaign calendar; unreported months shaded."""
    return show(ctx, "calendar", district_id)


def map_section(ctx: ReportContext) -> Section:
    """Region: district centres sized and coloured by coverage per 10,000 residents."""
    return show(ctx, "map")


def plan_section(ctx: ReportContext, district_id: str | None = None) -> Section:
    """Plan against actual: by district (region) or by channel (one district)."""
    return show(ctx, "plan", district_id)


def cross_section_section(ctx: ReportContext) -> Section:
    """Region: coverage against applications per capita, one point per district."""
    return show(ctx, "cross_section")


def data_quality_section(ctx: ReportContext, district_id: str | None = None) -> Section:
    """Rejected rows and unreported months (region-wide or for one district)."""
    return show(ctx, "data_quality", district_id)


def headline_section(ctx: ReportContext, district_id: str) -> Section:
    """District: headline numbers."""
    return show(ctx, "headline", district_id)


def gaps_section(ctx: ReportContext, district_id: str) -> Section:
    """District: gaps in plain words."""
    return show(ctx, "gaps", district_id)


def ranking_section(ctx: ReportContext, district_id: str) -> Section:
    """District: rank among districts, its range under other weights, similar districts."""
    return show(ctx, "ranking", district_id)


def briefing_section(ctx: ReportContext, district_id: str) -> Section:
    """District: the akim briefing table as of the period's last month."""
    return show(ctx, "briefing", district_id)


#: The model sections (:mod:`~coverage_analysis.report.model_sections`), in the report's locale.
model_section = _localized(model_sections.model_section)
whatif_section = _localized(model_sections.whatif_section)
diagnostics_sections = _localized(model_sections.diagnostics_sections)


def region_report(ctx: ReportContext) -> Sections:
    """All sections of the region overview, in order."""
    return Sections(
        [
            header(ctx, "region"),
            rating_section(ctx),
            heatmap_section(ctx),
            calendar_section(ctx),
            map_section(ctx),
            plan_section(ctx),
            cross_section_section(ctx),
            model_section(ctx),
            data_quality_section(ctx),
        ]
    )


def district_report(ctx: ReportContext, district_id: str) -> Sections:
    """All sections of one district's briefing, in order."""
    return Sections(
        [
            header(ctx, "district", district_id),
            headline_section(ctx, district_id),
            gaps_section(ctx, district_id),
            briefing_section(ctx, district_id),
            plan_section(ctx, district_id),
            ranking_section(ctx, district_id),
            calendar_section(ctx, district_id),
            model_section(ctx, district_id),
            whatif_section(ctx, district_id),
            data_quality_section(ctx, district_id),
        ]
    )


def section_names(sections: Sequence[Section]) -> list[str]:
    """Titles of ``sections`` (for tests and tables of contents)."""
    return [s.title for s in sections]


# --------------------------------------------------------------------------------------------
# the national scope's sections (declared in national_sections, registered here)

from coverage_analysis.report import national_sections as _national  # noqa: E402

_national.register()
#: The national overview and the per-region report (``--scope national``).
national_overview = _national.national_overview
national_header = _national.national_header
national_region_report = _national.region_report
