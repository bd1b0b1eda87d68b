"""Figures of the reports: one theme, ``plot_*(data, ax=None, lang="en") -> Axes``.

Every plot function takes a tidy frame (documented in its docstring), an
optional matplotlib ``Axes`` to draw on, the label language (``"en"`` or
``"ru"``) and ``synthetic``: when true the figure carries a visible
"Synthetic sample data" note. Labels come from :data:`LABELS`, the ``figures``
group of the one message catalog (``report/messages.json``). The theme uses DejaVu Sans, which has every
Cyrillic and Kazakh letter (ә, ғ, қ, ң, ө, ұ, ү, һ, і).

>>> label("materials", "ru")
'Материалы'
>>> ax = plot_adstock_curve(0.5, lang="ru")
>>> ax.get_xlabel()
'Месяцев после публикации'
>>> plt.close("all")
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

from coverage_analysis import domain

log = logging.getLogger(__name__)

#: Months that get a tick on monthly time axes (quarter starts).
QUARTER_START_MONTHS: tuple[int, ...] = (1, 4, 7, 10)

#: The one font family of every figure (has Cyrillic and Kazakh letters).
FONT_FAMILY = "DejaVu Sans"
#: Resolution of saved PNG files and of figures embedded in reports.
FIGURE_DPI = 110
#: Default figure size in inches (fits an A4 page with margins).
FIGURE_SIZE = (8.0, 4.5)
#: Colour of deadline and rule-change marks on calendar figures.
DEADLINE_COLOUR = "#b2182b"
#: Colour of the pooled estimate in forest plots.
POOLED_COLOUR = "#2166ac"
#: Sequential colour map of per-capita figures.
HEAT_CMAP = "YlGnBu"
#: Marker area range (points^2) of the district map.
MAP_SIZE_RANGE = (40.0, 900.0)
#: Forest plots cut the x axis at these quantiles of the interval bounds.
CLIP_QUANTILE = 0.1
#: Months shown on the carry-over curve.
ADSTOCK_MONTHS = 12
#: Languages with a complete label dictionary.
LANGS: tuple[str, ...] = ("en", "ru")

#: Colour of the shading of months no registry reported (unknown, not zero).
UNREPORTED_COLOUR = "#9e9e9e"


class _Catalog(dict):
    """``LABELS[lang][key]`` read from the one message catalog (group ``{group}``)."""

    def __init__(self, group: str) -> None:
        super().__init__()
        self.group = group

    def __missing__(self, lang: str) -> dict[str, str]:
        from coverage_analysis.report.catalog import words

        return words(self.group, lang)


#: Every label of every figure, in English and Russian (``report/messages.json``, ``figures``).
LABELS: dict[str, dict[str, str]] = _Catalog("figures")
#: Channel names shown in figures and tables (``report/messages.json``, ``channels``).
CHANNEL_LABELS: dict[str, dict[str, str]] = _Catalog("channels")


def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    return lang


def label(key: str, lang: str = "en", **fmt: object) -> str:
    """The label ``key`` in ``lang``, formatted with ``fmt``.

    >>> label("half_life", "en", hl=2.0)
    'half-life 2.0 months'
    """
    text = LABELS[_check_lang(lang)][key]
    return text.format(**fmt) if fmt else text


def channel_label(channel: str, lang: str = "en") -> str:
    """Display name of a channel id (the id itself when unknown).

    >>> channel_label("tv", "ru"), channel_label("pigeon", "en")
    ('ТВ', 'pigeon')
    """
    return CHANNEL_LABELS[_check_lang(lang)].get(channel, channel)


def apply_theme() -> None:
    """Apply the one theme of the package (seaborn whitegrid, DejaVu Sans)."""
    sns.set_theme(
        context="notebook",
        style="whitegrid",
        font=FONT_FAMILY,
        rc={
            "font.family": "sans-serif",
            "font.sans-serif": [FONT_FAMILY],
            "axes.titlesize": 12,
            "axes.labelsize": 10,
            "xtick.labelsize": 9,
            "ytick.labelsize": 9,
            "legend.fontsize": 8,
            "figure.dpi": FIGURE_DPI,
            "savefig.dpi": FIGURE_DPI,
            "svg.fonttype": "none",
        },
    )


def _axes(ax: Axes | None, size: tuple[float, float] = FIGURE_SIZE) -> Axes:
    apply_theme()
    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def add_synthetic_note(ax: Axes, lang: str = "en") -> None:
    """Write the visible "Synthetic sample data" note in the corner of ``ax``'s figure."""
    fig = ax.figure
    fig.text(
        0.005,
        0.005,
        label("synthetic", lang),
        ha="left",
        va="bottom",
        fontsize=9,
        color="#7f0000",
        style="italic",
        bbox={"boxstyle": "round,pad=0.2", "fc": "#fff3e0", "ec": "#7f0000", "lw": 0.6},
    )


def _finish(ax: Axes, lang: str, synthetic: bool) -> Axes:
    if synthetic:
        add_synthetic_note(ax, lang)
    return ax


def _empty(ax: Axes, lang: str, synthetic: bool) -> Axes:
    ax.text(0.5, 0.5, label("no_data", lang), ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
    return _finish(ax, lang, synthetic)


def channel_columns(frame: pd.DataFrame) -> list[str]:
    """``materials_<channel>`` columns of ``frame`` in :data:`domain.CHANNELS` order.

    >>> channel_columns(pd.DataFrame(columns=["materials_tv", "materials_print", "x"]))
    ['materials_print', 'materials_tv']
    """
    return [f"materials_{c}" for c in domain.CHANNELS if f"materials_{c}" in frame.columns]


def unreported_months(panel: pd.DataFrame) -> list[pd.Timestamp]:
    """Months in which no row of ``panel`` (``month``, ``is_reported``) was reported by a
    registry: for one district its unreported months, for the region the months no
    district reported.

    >>> p = pd.DataFrame({"month": pd.to_datetime(["2015-01-01", "2015-01-01", "2015-02-01"]),
    ...                   "is_reported": [False, True, False]})
    >>> [f"{m:%Y-%m}" for m in unreported_months(p)]
    ['2015-02']
    """
    if panel.empty or "is_reported" not in panel:
        return []
    any_reported = panel["is_reported"].astype(bool).groupby(panel["month"]).any()
    return [pd.Timestamp(m) for m in any_reported.index[~any_reported.to_numpy()]]


def plot_calendar(
    data: pd.DataFrame,
    ax: Axes | None = None,
    lang: str = "en",
    synthetic: bool = False,
    unreported: Sequence[object] = (),
) -> Axes:
    """Monthly materials by channel (stacked bars) against the campaign calendar.

    ``data``: panel-like rows with ``month`` and ``materials_<channel>``
    columns (summed over districts per month). The December 2015 deadline and
    rule change is shaded, the December 2016 end marked; the months in
    ``unreported`` (no registry reported: unknown, not zero) are shaded grey.

    >>> f = pd.DataFrame({"month": pd.to_datetime(["2015-11-01", "2015-12-01"]),
    ...                   "materials_tv": [1, 3], "materials_print": [2, 0]})
    >>> plot_calendar(f).get_ylabel()
    'Materials'
    >>> plt.close("all")
    """
    ax = _axes(ax, (9.5, 4.5))
    cols = channel_columns(data)
    if data.empty or not cols:
        return _empty(ax, lang, synthetic)
    monthly = (
        data.assign(month=pd.to_datetime(data["month"]))
        .groupby("month")[cols]
        .sum(min_count=1)
        .reindex(domain.campaign_months(data["month"].min(), data["month"].max()))
        .fillna(0.0)
    )
    monthly = monthly.loc[:, monthly.sum() > 0] if (monthly.sum() > 0).any() else monthly
    bottom = np.zeros(len(monthly))
    palette = sns.color_palette("tab20", n_colors=len(domain.CHANNELS))
    x = monthly.index
    width = 25  # days: a month-wide bar with a small gap
    for col in monthly.columns:
        channel = col.removeprefix("materials_")
        colour = palette[domain.CHANNELS.index(channel)]
        ax.bar(
            x,
            monthly[col].to_numpy(),
            width=width,
            bottom=bottom,
            color=colour,
            label=channel_label(channel, lang),
            align="center",
        )
        bottom = bottom + monthly[col].to_numpy()
    half = pd.Timedelta(days=15)
    for i, when in enumerate(sorted(pd.Timestamp(m) for m in unreported)):
        ax.axvspan(
            when - half,
            when + half,
            color=UNREPORTED_COLOUR,
            alpha=0.25,
            lw=0,
            label=label("unreported", lang) if i == 0 else None,
        )
    ax.axvspan(
        domain.FIRST_DEADLINE - half,
        domain.FIRST_DEADLINE + half,
        color=DEADLINE_COLOUR,
        alpha=0.15,
        label=label("first_deadline", lang),
    )
    ax.axvline(
        domain.FINAL_DEADLINE,
        color=DEADLINE_COLOUR,
        ls="--",
        lw=1.5,
        label=label("final_deadline", lang),
    )
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=QUARTER_START_MONTHS))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    ax.tick_params(axis="x", labelrotation=45)
    ax.set_xlabel(label("month", lang))
    ax.set_ylabel(label("materials", lang))
    ax.set_title(label("calendar_title", lang))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return _finish(ax, lang, synthetic)


def plot_district_ranking(
    data: pd.DataFrame,
    ax: Axes | None = None,
    lang: str = "en",
    synthetic: bool = False,
    value: str = "score",
    name: str = "name",
    highlight: str | None = None,
) -> Axes:
    """Horizontal bars of districts sorted by ``value``; ``highlight`` names one bar.

    >>> f = pd.DataFrame({"name": ["A", "B"], "score": [0.2, 0.9]})
    >>> len(plot_district_ranking(f).patches)
    2
    >>> plt.close("all")
    """
    ax = _axes(ax, (8.0, 0.3 * max(len(data), 4) + 1.2))
    if data.empty:
        return _empty(ax, lang, synthetic)
    ordered = data.sort_values(value, ascending=True)
    colours = [
        DEADLINE_COLOUR if highlight is not None and n == highlight else POOLED_COLOUR
        for n in ordered[name]
    ]
    ax.barh(ordered[name].astype(str), ordered[value].astype(float), color=colours)
    ax.set_xlabel(label("score", lang) if value == "score" else value)
    ax.set_ylabel("")
    ax.set_title(label("ranking_title", lang))
    return _finish(ax, lang, synthetic)


def plot_channel_heatmap(
    data: pd.DataFrame, ax: Axes | None = None, lang: str = "en", synthetic: bool = False
) -> Axes:
    """Heat map of materials per 10,000 residents: rows districts (index labels),
    columns channel ids. Zero cells (a channel missing entirely) are annotated.

    >>> f = pd.DataFrame({"tv": [0.0, 1.5], "print": [2.0, 0.0]}, index=["A", "B"])
    >>> plot_channel_heatmap(f).get_title()
    'Materials per 10,000 residents by channel'
    >>> plt.close("all")
    """
    ax = _axes(ax, (9.0, 0.32 * max(len(data), 4) + 2.0))
    if data.empty:
        return _empty(ax, lang, synthetic)
    shown = data.astype(float).rename(columns=lambda c: channel_label(str(c), lang))
    sns.heatmap(
        shown,
        ax=ax,
        cmap=HEAT_CMAP,
        annot=True,
        fmt=".1f",
        annot_kws={"fontsize": 7},
        linewidths=0.4,
        linecolor="white",
        cbar_kws={"label": label("materials_per_10k", lang)},
    )
    ax.set_xlabel(label("channel", lang))
    ax.set_ylabel("")
    ax.set_title(label("heatmap_title", lang))
    ax.tick_params(axis="x", rotation=45)
    for tick in ax.get_xticklabels():
        tick.set_ha("right")
    return _finish(ax, lang, synthetic)


def plot_plan_vs_actual(
    data: pd.DataFrame,
    ax: Axes | None = None,
    lang: str = "en",
    synthetic: bool = False,
    name: str = "name",
) -> Axes:
    """Paired horizontal bars of ``planned`` and ``actual`` per row ``name``
    (districts, or channels of one district).

    >>> f = pd.DataFrame({"name": ["A"], "planned": [10], "actual": [4]})
    >>> len(plot_plan_vs_actual(f).patches)
    2
    >>> plt.close("all")
    """
    ax = _axes(ax, (8.0, 0.35 * max(len(data), 4) + 1.2))
    if data.empty:
        return _empty(ax, lang, synthetic)
    ordered = data.sort_values("planned", ascending=True).reset_index(drop=True)
    y = np.arange(len(ordered))
    h = 0.4
    ax.barh(
        y + h / 2,
        ordered["planned"].astype(float).fillna(0),
        height=h,
        color="#bdbdbd",
        label=label("planned", lang),
    )
    ax.barh(
        y - h / 2,
        ordered["actual"].astype(float).fillna(0),
        height=h,
        color=POOLED_COLOUR,
        label=label("actual", lang),
    )
    ax.set_yticks(y, ordered[name].astype(str))
    ax.set_xlabel(label("materials", lang))
    ax.set_title(label("plan_title", lang))
    ax.legend(loc="lower right")
    return _finish(ax, lang, synthetic)


def plot_coverage_vs_applications(
    data: pd.DataFrame,
    ax: Axes | None = None,
    lang: str = "en",
    synthetic: bool = False,
    name: str = "name",
    slope: float | None = None,
) -> Axes:
    """Scatter of ``coverage_per_10k`` against ``applications_per_10k`` (one point per
    district, log scales) with the fitted log-log relation. ``slope`` (elasticity)
    overrides the least-squares slope; the line passes through the means.

    >>> f = pd.DataFrame({"name": list("ABC"), "coverage_per_10k": [1.0, 2.0, 4.0],
    ...                   "applications_per_10k": [3.0, 5.0, 9.0]})
    >>> len(plot_coverage_vs_applications(f).lines)
    1
    >>> plt.close("all")
    """
    ax = _axes(ax)
    xs = pd.to_numeric(data.get("coverage_per_10k"), errors="coerce") if not data.empty else None
    if xs is None or xs.notna().sum() == 0:
        return _empty(ax, lang, synthetic)
    ys = pd.to_numeric(data["applications_per_10k"], errors="coerce")
    ok = xs.notna() & ys.notna()
    lx, ly = np.log1p(xs[ok].to_numpy(float)), np.log1p(ys[ok].to_numpy(float))
    ax.scatter(np.expm1(lx), np.expm1(ly), color=POOLED_COLOUR, s=40, zorder=3)
    for (_, row), px, py in zip(data[ok].iterrows(), np.expm1(lx), np.expm1(ly), strict=True):
        ax.annotate(str(row[name]), (px, py), fontsize=7, xytext=(3, 3), textcoords="offset points")
    if ok.sum() >= 2 and np.ptp(lx) > 0:
        b = float(slope) if slope is not None else float(np.polyfit(lx, ly, 1)[0])
        a = ly.mean() - b * lx.mean()
        grid = np.linspace(lx.min(), lx.max(), 50)
        ax.plot(
            np.expm1(grid),
            np.expm1(a + b * grid),
            color=DEADLINE_COLOUR,
            label=f"{label('fitted', lang)} (b = {b:.2f})",
        )
        ax.legend(loc="upper left")
    ax.set_xscale("symlog", linthresh=1.0)
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_xlabel(label("coverage_per_10k", lang))
    ax.set_ylabel(label("applications_per_10k", lang))
    ax.set_title(label("scatter_title", lang))
    return _finish(ax, lang, synthetic)


def plot_fitted_relation(
    data: Mapping[str, object],
    ax: Axes | None = None,
    lang: str = "en",
    synthetic: bool = False,
) -> Axes:
    """The model's fitted relation: expected applications relative to no coverage (same
    district and month) against carry-over materials per 10,000 residents, with its 95%
    band and binned observed/expected points. ``data``: ``coverage_index``,
    ``relative_expected``, ``ci_low``, ``ci_high`` (sequences) and optional
    ``binned_points`` (records with ``coverage_index``, ``observed_over_expected``, ``n``).

    >>> d = {"coverage_index": [0.0, 1.0, 2.0], "relative_expected": [1.0, 1.3, 1.7],
    ...      "ci_low": [1.0, 1.1, 1.2], "ci_high": [1.0, 1.5, 2.3],
    ...      "binned_points": [{"coverage_index": 1.0, "observed_over_expected": 1.2, "n": 9}]}
    >>> plot_fitted_relation(d).get_ylabel()
    'Applications relative to no coverage'
    >>> plt.close("all")
    """
    ax = _axes(ax, (7.0, 4.0))
    raw = data.get("coverage_index")
    grid = np.asarray(raw if raw is not None else [], dtype=float)
    if grid.size == 0:
        return _empty(ax, lang, synthetic)
    x = 2.0**grid - 1.0
    ax.fill_between(
        x,
        np.asarray(data["ci_low"], float),
        np.asarray(data["ci_high"], float),
        color=POOLED_COLOUR,
        alpha=0.15,
    )
    ax.plot(
        x,
        np.asarray(data["relative_expected"], float),
        color=POOLED_COLOUR,
        label=label("fitted", lang),
    )
    binned = data.get("binned_points")
    points = pd.DataFrame(list(binned) if binned is not None else [])
    if not points.empty:
        ax.scatter(
            2.0 ** points["coverage_index"] - 1.0,
            points["observed_over_expected"],
            s=12 + 2 * np.sqrt(points.get("n", pd.Series(1, index=points.index))),
            color="#333333",
            alpha=0.7,
            label=label("binned", lang),
            zorder=3,
        )
    ax.axhline(1.0, color="#999999", ls=":", lw=1)
    ax.set_xlabel(label("carryover_per_10k", lang))
    ax.set_ylabel(label("relative_expected", lang))
    ax.set_title(label("fitted_title", lang))
    ax.legend(loc="upper left")
    return _finish(ax, lang, synthetic)


def plot_adstock_curve(
    decay: float,
    ax: Axes | None = None,
    lang: str = "en",
    synthetic: bool = False,
    months: int = ADSTOCK_MONTHS,
) -> Axes:
    """Weight of one material ``k`` months after publication: ``decay ** k``.

    >>> len(plot_adstock_curve(0.3, months=6).patches)
    7
    >>> plt.close("all")
    """
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"decay must be in [0, 1), got {decay}")
    ax = _axes(ax, (7.0, 3.5))
    k = np.arange(months + 1)
    ax.bar(k, decay**k, color=POOLED_COLOUR)
    if decay > 0:
        hl = np.log(0.5) / np.log(decay)
        ax.axhline(0.5, color="#999999", ls=":", lw=1)
        ax.text(months, 0.52, label("half_life", lang, hl=hl), ha="right", fontsize=8)
    ax.set_xlabel(label("months_after", lang))
    ax.set_ylabel(label("weight", lang))
    ax.set_ylim(0, 1.05)
    ax.set_title(label("adstock_title", lang, decay=decay))
    return _finish(ax, lang, synthetic)


def plot_forest(
    data: pd.DataFrame,
    ax: Axes | None = None,
    lang: str = "en",
    synthetic: bool = False,
    pooled: Mapping[str, float] | None = None,
    name: str = "name",
    xlabel: str | None = None,
) -> Axes:
    """Forest plot: one row per ``name`` with ``estimate``, ``ci_low``, ``ci_high``;
    ``pooled`` (same keys) drawn as a band and a last row.

    >>> f = pd.DataFrame({"name": ["A", "B"], "estimate": [0.1, 0.3],
    ...                   "ci_low": [0.0, 0.1], "ci_high": [0.2, 0.5]})
    >>> plot_forest(f, pooled={"estimate": 0.2, "ci_low": 0.1, "ci_high": 0.3}).get_title()
    'Association of coverage with applications by district'
    >>> plt.close("all")
    """
    ax = _axes(ax, (8.0, 0.3 * max(len(data), 4) + 1.6))
    if data.empty:
        return _empty(ax, lang, synthetic)
    ordered = data.sort_values("estimate").reset_index(drop=True)
    y = np.arange(len(ordered))
    est = ordered["estimate"].astype(float).to_numpy()
    lo = ordered["ci_low"].astype(float).to_numpy()
    hi = ordered["ci_high"].astype(float).to_numpy()
    ax.errorbar(
        est,
        y,
        xerr=[est - lo, hi - est],
        fmt="o",
        color="#333333",
        ecolor="#777777",
        capsize=2,
        ms=4,
    )
    labels = ordered[name].astype(str).tolist()
    if pooled is not None and pooled.get("estimate") is not None:
        pe, pl, ph = (float(pooled[k]) for k in ("estimate", "ci_low", "ci_high"))
        ax.axvspan(pl, ph, color=POOLED_COLOUR, alpha=0.12)
        ax.axvline(pe, color=POOLED_COLOUR, lw=1.2)
        yp = len(ordered) + 0.5
        ax.errorbar(
            [pe], [yp], xerr=[[pe - pl], [ph - pe]], fmt="D", color=POOLED_COLOUR, capsize=3, ms=6
        )
        ax.set_yticks([*y, yp], [*labels, label("pooled", lang)])
    else:
        ax.set_yticks(y, labels)
    ax.axvline(0.0, color="#999999", ls=":", lw=1)
    finite = np.concatenate([lo[np.isfinite(lo)], hi[np.isfinite(hi)]])
    if finite.size:  # very wide intervals of districts with few months run off the edge
        left = min(np.nanquantile(lo, CLIP_QUANTILE), np.nanmin(est), 0.0)
        right = max(np.nanquantile(hi, 1 - CLIP_QUANTILE), np.nanmax(est), 0.0)
        pad = 0.05 * (right - left or 1.0)
        ax.set_xlim(left - pad, right + pad)
    ax.set_xlabel(xlabel or label("effect", lang))
    ax.set_title(label("forest_title", lang))
    return _finish(ax, lang, synthetic)


def plot_district_map(
    data: pd.DataFrame,
    ax: Axes | None = None,
    lang: str = "en",
    synthetic: bool = False,
    value: str = "coverage_per_10k",
    name: str = "name",
) -> Axes:
    """A choropleth of the region's districts (real boundaries, :mod:`coverage_analysis.maps`)
    coloured by ``value`` per ``district_id``, labelled with ``name``: materials per 10,000
    residents (``coverage_per_10k``, the default), ``rank`` (1 = most per 10,000; computed
    from ``coverage_per_10k`` when absent) or ``fulfilment_pct`` (plan fulfilment, %;
    computed as ``100 * actual / planned`` when absent). Districts without a value are
    hatched "no data". A reference whose ids have no boundaries in the package (another
    region's own ``districts.csv``) gets the former map of district centres
    (``lon``/``lat`` scatter) instead.

    >>> f = pd.DataFrame({"district_id": ["semey", "ayagoz"], "name": ["Semey", "Ayagoz"],
    ...                   "lat": [50.4, 48.0], "lon": [80.3, 80.4], "coverage_per_10k": [1.0, 3.0]})
    >>> from coverage_analysis.maps import ATTRIBUTION
    >>> ATTRIBUTION in [t.get_text() for t in plot_district_map(f).texts]
    True
    >>> plt.close("all")
    """
    from coverage_analysis import maps  # imported here: maps imports this module

    data = data.copy()
    if value == "rank" and "rank" not in data and "coverage_per_10k" in data:
        per = pd.to_numeric(data["coverage_per_10k"], errors="coerce")
        data["rank"] = per.rank(ascending=False, method="min")
    if value == "fulfilment_pct" and value not in data and {"actual", "planned"} <= set(data):
        planned = pd.to_numeric(data["planned"], errors="coerce")
        data[value] = (
            100.0 * pd.to_numeric(data["actual"], errors="coerce") / planned.where(planned > 0)
        )
    region_ids = {f["properties"]["district_id"] for f in maps.load_geojson()["features"]}
    if "district_id" in data and data["district_id"].astype(str).isin(region_ids).any():
        known = data.loc[data["district_id"].astype(str).isin(region_ids)]
        vals = pd.to_numeric(known[value], errors="coerce")
        metric = {"rank": "rank", "fulfilment_pct": "fulfilment_pct"}.get(value, "per_10k")
        names = dict(zip(known["district_id"].astype(str), known[name].astype(str), strict=True))
        return maps.plot_choropleth(
            dict(zip(known["district_id"].astype(str), vals.astype(float), strict=True)),
            metric_label=maps.map_label(metric, lang),
            lang=lang,
            ax=ax,
            synthetic=synthetic,
            cmap=f"{HEAT_CMAP}_r" if value == "rank" else HEAT_CMAP,
            names=names if name in known else None,
        )
    log.warning("district map: no district id has boundaries in the package; drawing centres")
    ax = _axes(ax, (8.0, 6.0))
    if data.empty:
        return _empty(ax, lang, synthetic)
    vals = pd.to_numeric(data[value], errors="coerce").fillna(0.0).to_numpy(float)
    top = vals.max() if vals.max() > 0 else 1.0
    sizes = MAP_SIZE_RANGE[0] + (MAP_SIZE_RANGE[1] - MAP_SIZE_RANGE[0]) * vals / top
    points = ax.scatter(
        data["lon"],
        data["lat"],
        s=sizes,
        c=vals,
        cmap=HEAT_CMAP,
        edgecolors="#333333",
        linewidths=0.6,
        alpha=0.9,
        zorder=3,
    )
    for lon, lat, text in zip(data["lon"], data["lat"], data[name].astype(str), strict=True):
        ax.annotate(text, (lon, lat), fontsize=7, xytext=(5, 4), textcoords="offset points")
    ax.figure.colorbar(points, ax=ax, label=label("materials_per_10k", lang))
    ax.set_xlabel(label("lon", lang))
    ax.set_ylabel(label("lat", lang))
    ax.set_aspect(1.0 / np.cos(np.deg2rad(float(np.mean(data["lat"])))))
    ax.set_title(label("map_title", lang))
    return _finish(ax, lang, synthetic)


def plot_decay_search(
    data: pd.DataFrame,
    ax: Axes | None = None,
    lang: str = "en",
    synthetic: bool = False,
    criterion: str = "criterion",
    chosen: float | None = None,
) -> Axes:
    """Line of the fit ``criterion`` against ``decay`` with the chosen decay marked.

    >>> f = pd.DataFrame({"decay": [0.0, 0.5], "criterion": [10.0, 8.0]})
    >>> len(plot_decay_search(f, chosen=0.5).lines)
    2
    >>> plt.close("all")
    """
    ax = _axes(ax, (7.0, 3.5))
    if data.empty or criterion not in data:
        return _empty(ax, lang, synthetic)
    ax.plot(
        data["decay"].astype(float), data[criterion].astype(float), marker="o", color=POOLED_COLOUR
    )
    if chosen is not None:
        ax.axvline(float(chosen), color=DEADLINE_COLOUR, ls="--")
    ax.set_xlabel(label("decay", lang))
    ax.set_ylabel(label("criterion", lang))
    ax.set_title(label("decay_title", lang))
    return _finish(ax, lang, synthetic)


def plot_residuals_by_month(
    data: pd.DataFrame, ax: Axes | None = None, lang: str = "en", synthetic: bool = False
) -> Axes:
    """Box plot of ``residual`` by ``month`` with the deadlines marked; or, for a frame
    already summarised per month (``month``, ``mean``, optional ``sd``), points with bars.

    >>> f = pd.DataFrame({"month": pd.to_datetime(["2015-12-01"] * 2), "residual": [0.1, -0.2]})
    >>> plot_residuals_by_month(f).get_ylabel()
    'Residual'
    >>> plt.close("all")
    """
    ax = _axes(ax)
    if data.empty:
        return _empty(ax, lang, synthetic)
    if "residual" not in data and "mean" in data:  # already summarised per month
        months = pd.to_datetime(data["month"])
        sd = data["sd"].astype(float).fillna(0.0) if "sd" in data else None
        ax.errorbar(
            months,
            data["mean"].astype(float),
            yerr=sd,
            fmt="o",
            color=POOLED_COLOUR,
            ecolor="#9ecae1",
            capsize=2,
        )
        for stamp in (domain.FIRST_DEADLINE, domain.FINAL_DEADLINE):
            ax.axvline(stamp, color=DEADLINE_COLOUR, ls="--", lw=1)
        ax.axhline(0.0, color="#999999", lw=1)
        ax.set_xlabel(label("month", lang))
        ax.set_ylabel(label("residual", lang))
        ax.set_title(label("residuals_title", lang))
        return _finish(ax, lang, synthetic)
    frame = data.assign(m=pd.to_datetime(data["month"]).dt.strftime("%Y-%m"))
    order = sorted(frame["m"].unique())
    sns.boxplot(frame, x="m", y="residual", order=order, ax=ax, color="#9ecae1", fliersize=2)
    for stamp in (domain.FIRST_DEADLINE, domain.FINAL_DEADLINE):
        key = stamp.strftime("%Y-%m")
        if key in order:
            ax.axvline(order.index(key), color=DEADLINE_COLOUR, ls="--", lw=1)
    ax.axhline(0.0, color="#999999", lw=1)
    ax.tick_params(axis="x", rotation=90)
    ax.set_xlabel(label("month", lang))
    ax.set_ylabel(label("residual", lang))
    ax.set_title(label("residuals_title", lang))
    return _finish(ax, lang, synthetic)


def savefig_options(fig: Figure) -> dict[str, object]:
    """``savefig`` options for ``fig``: a figure laid out by the constrained layout
    engine (every figure of the package) already fits its labels, legends and notes,
    so it is drawn once; any other is cropped with ``bbox_inches="tight"``, which
    draws it twice (that second draw was a third of a district report's time).

    >>> fig, ax = plt.subplots(layout="constrained")
    >>> savefig_options(fig)
    {'dpi': 110}
    >>> plt.close("all")
    """
    options: dict[str, object] = {"dpi": FIGURE_DPI}
    engine = fig.get_layout_engine()
    if not isinstance(engine, ConstrainedLayoutEngine):
        options["bbox_inches"] = "tight"
    return options


def save_figure(
    fig: Figure, name: str, figures_dir: str | Path, formats: Sequence[str] = ("png", "svg")
) -> list[Path]:
    """Write ``fig`` as ``<figures_dir>/<name>.png`` and ``.svg``; returns the paths.
    ``name`` may only hold letters, digits, ``-``, ``_`` and ``.``.

    >>> import tempfile
    >>> fig, ax = plt.subplots()
    >>> [p.suffix for p in save_figure(fig, "demo", tempfile.mkdtemp())]
    ['.png', '.svg']
    >>> plt.close("all")
    """
    safe = "".join(ch for ch in name if ch.isascii() and (ch.isalnum() or ch in "-_."))
    if not safe or safe != name or safe.startswith("."):
        raise ValueError(f"figure name must be plain ASCII letters, digits, '-', '_': {name!r}")
    folder = Path(figures_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = folder / f"{safe}.{fmt}"
        fig.savefig(path, format=fmt, **savefig_options(fig))
        paths.append(path)
    log.info("saved figure %s to %s", safe, folder)
    return paths
