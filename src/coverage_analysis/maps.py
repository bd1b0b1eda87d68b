"""Choropleth maps from the real district and region boundaries.

Why this module: a map of centre points hides the very thing a reader looks for — which
part of the territory a district covers. The boundary polygons (geokz, A. Rodionov,
CC BY 4.0) are simplified once at build time (``scripts/build_geo.py``) into small
GeoJSON package data, so drawing needs only the json module and matplotlib patches: no
GDAL, no geopandas, no shapely at run time.

Every map carries the attribution line (:data:`ATTRIBUTION`) inside its axes, hatches
units without a value ("no data", never a guessed colour), has a colour bar labelled
with the metric and its unit, and keeps tiny units visible: a unit whose polygon covers
fewer than :data:`MIN_UNIT_PIXELS` display pixels gets a marker of its colour on top
(Kurchatov on the region map; city districts on the republic's map). The theme and the
"Synthetic sample data" note are those of :mod:`coverage_analysis.figures`.

>>> ax = plot_choropleth({"semey": 2.0, "ayagoz": 1.0}, metric_label="Materials per 10,000")
>>> ATTRIBUTION in [t.get_text() for t in ax.texts]
True
>>> plt.close("all")
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import matplotlib.patheffects as path_effects
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath

from coverage_analysis import figures
from coverage_analysis.reference.national import ATTRIBUTION, GEO_FILES, load_geojson

__all__ = ["ATTRIBUTION", "MAP_LABELS", "map_label", "plot_choropleth", "unit_display_area"]

#: Size in inches of a map drawn on its own figure.
MAP_SIZE = (8.0, 6.0)
#: A unit whose polygon covers fewer display pixels (px²) than this also gets a marker.
MIN_UNIT_PIXELS = 60.0
#: Display area (pixels²) of the marker drawn on a tiny unit: above the minimum, so a
#: marked unit is always visible (about 11 px across).
TINY_MARKER_PIXELS = 1.5 * MIN_UNIT_PIXELS
#: Face colour of units without a value.
NO_DATA_COLOUR = "#f0f0f0"
#: Hatch of units without a value.
NO_DATA_HATCH = "////"
#: Colour of the unit borders.
EDGE_COLOUR = "#4d4d4d"
#: Width of the unit borders (points).
EDGE_WIDTH = 0.5
#: Margin (fraction of the extent) around the map; the bottom one leaves room for the
#: attribution line.
MAP_MARGIN = (0.02, 0.07)
#: Font size of unit labels.
LABEL_FONT_SIZE = 6.5
#: Font size of the attribution line.
ATTRIBUTION_FONT_SIZE = 6.5
#: Words dropped from the end of a unit name on its label ("Abai District" -> "Abai").
LABEL_SUFFIXES: tuple[str, ...] = (" District", " район", " ауданы")
#: Key property of the units, by scope: the package's district ids, or KATO codes.
KEY_PROPERTY = {"region": "district_id", "national": "kato"}
#: The levels that are labelled on the map (216 district labels would be unreadable).
LABELLED = {("region", "district"), ("national", "region")}

#: The labels of the maps, in English and Russian.
MAP_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title_region_district": "Districts of East Kazakhstan (2014–2016 division)",
        "title_national_region": "Regions of Kazakhstan (2018 boundaries)",
        "title_national_district": "Districts of Kazakhstan (2018 boundaries)",
        "no_data": "No data",
        "tiny": "Small unit (marker)",
        "per_10k": "Materials per 10,000 residents",
        "rank": "Rank (1 = most materials per 10,000 residents)",
        "fulfilment_pct": "Plan fulfilment, % of planned materials",
    },
    "ru": {
        "title_region_district": "Районы Восточно-Казахстанской области (деление 2014–2016 гг.)",
        "title_national_region": "Области Казахстана (границы 2018 г.)",
        "title_national_district": "Районы Казахстана (границы 2018 г.)",
        "no_data": "Нет данных",
        "tiny": "Малая единица (маркер)",
        "per_10k": "Материалов на 10 000 жителей",
        "rank": "Место (1 = больше всего материалов на 10 000 жителей)",
        "fulfilment_pct": "Выполнение плана, % запланированных материалов",
    },
}


def map_label(key: str, lang: str = "en") -> str:
    """The map label ``key`` in ``lang``.

    >>> map_label("no_data", "ru")
    'Нет данных'
    """
    if lang not in figures.LANGS:
        raise ValueError(f"lang must be one of {figures.LANGS}, got {lang!r}")
    return MAP_LABELS[lang][key]


def _ring_codes(n: int) -> list[int]:
    return [MplPath.MOVETO] + [MplPath.LINETO] * (n - 2) + [MplPath.CLOSEPOLY]


def _feature_path(geometry: dict) -> MplPath:
    polygons = geometry["coordinates"]
    if geometry["type"] == "Polygon":
        polygons = [polygons]
    verts: list[list[float]] = []
    codes: list[int] = []
    for rings in polygons:
        for ring in rings:
            verts.extend(ring)
            codes.extend(_ring_codes(len(ring)))
    return MplPath(np.asarray(verts, dtype=float), codes)


def _short(name: str) -> str:
    for suffix in LABEL_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name.split(" (")[0]


def _polygon_pixels(patch: PathPatch) -> float:
    path = patch.get_path().transformed(patch.get_transform())
    area = 0.0
    for poly in path.to_polygons(closed_only=True):
        x, y = poly[:, 0], poly[:, 1]
        area += abs(float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))) / 2.0
    return area


def _marker_points2(ax: Axes, pixels: float) -> float:
    """Marker size (points², matplotlib's ``s``) of a circle of ``pixels`` display area."""
    px_per_pt = ax.figure.dpi / 72.0
    return pixels / (math.pi / 4.0) / px_per_pt**2


def unit_display_area(ax: Axes, gid: str) -> float:
    """Display area (pixels²) of the unit drawn with ``gid`` on ``ax``: its polygon's area,
    or its marker's when it has one (whichever is larger). The figure must have been drawn.

    >>> ax = plot_choropleth({"kurchatov": 1.0})
    >>> unit_display_area(ax, "unit:kurchatov") >= MIN_UNIT_PIXELS
    True
    >>> plt.close("all")
    """
    best = 0.0
    for patch in ax.patches:
        if patch.get_gid() == gid:
            best = max(best, _polygon_pixels(patch))
    for coll in ax.collections:
        if coll.get_gid() == gid:
            size_pt2 = float(np.max(coll.get_sizes()))
            px_per_pt = ax.figure.dpi / 72.0
            best = max(best, math.pi / 4.0 * size_pt2 * px_per_pt**2)
    return best


def plot_choropleth(
    values: Mapping[str, float],
    level: str = "district",
    scope: str = "region",
    metric_label: str | None = None,
    lang: str = "en",
    ax: Axes | None = None,
    synthetic: bool = False,
    title: str | None = None,
    cmap: str = figures.HEAT_CMAP,
    names: Mapping[str, str] | None = None,
) -> Axes:
    """A choropleth of ``values`` (keyed by ``district_id`` for ``scope="region"``, by the
    9-digit KATO code for ``scope="national"``) over the units of ``scope`` at ``level``
    (``"district"``; national also ``"region"``). ``metric_label`` (with its unit) labels the
    colour bar; units missing from ``values`` or with a NaN value are hatched "no data".
    ``names`` overrides the unit labels (same keys). Every map carries the attribution line;
    ``synthetic`` adds the "Synthetic sample data" note. A key that is not a unit of the map
    is an error naming it.
    """
    map_label("no_data", lang)  # checks lang
    if (scope, level) not in GEO_FILES:
        raise ValueError(f"no map for scope={scope!r}, level={level!r}; one of {list(GEO_FILES)}")
    geo = load_geojson(scope, level)
    key_prop = KEY_PROPERTY[scope]
    feats = {str(f["properties"][key_prop]): f for f in geo["features"]}
    vals = {str(k): float(v) if v is not None else math.nan for k, v in values.items()}
    unknown = sorted(set(vals) - set(feats))
    if unknown:
        raise ValueError(
            f"plot_choropleth: {len(unknown)} key(s) are not {key_prop} values of the "
            f"{scope} {level} map: {unknown[:5]}"
        )
    figures.apply_theme()
    if ax is None:
        _, ax = plt.subplots(figsize=MAP_SIZE, layout="constrained")
    fig = ax.figure
    finite = [v for v in vals.values() if math.isfinite(v)]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    norm = Normalize(vmin=lo, vmax=hi)
    colours = colormaps[cmap]

    paths: dict[str, MplPath] = {}
    drawn: dict[str, PathPatch] = {}
    missing = False
    for key, feat in feats.items():
        path = _feature_path(feat["geometry"])
        paths[key] = path
        v = vals.get(key, math.nan)
        if math.isfinite(v):
            style = {"facecolor": colours(norm(v))}
        else:
            missing = True
            style = {"facecolor": NO_DATA_COLOUR, "hatch": NO_DATA_HATCH}
        drawn[key] = ax.add_patch(
            PathPatch(path, edgecolor=EDGE_COLOUR, linewidth=EDGE_WIDTH, gid=f"unit:{key}", **style)
        )
    allv = np.concatenate([p.vertices for p in paths.values()])
    (x0, y0), (x1, y1) = allv.min(axis=0), allv.max(axis=0)
    mx, my = MAP_MARGIN
    ax.set_xlim(x0 - mx * (x1 - x0), x1 + mx * (x1 - x0))
    ax.set_ylim(y0 - my * (y1 - y0), y1 + mx * (y1 - y0))
    ax.set_aspect(1.0 / math.cos(math.radians((y0 + y1) / 2.0)))
    ax.set_axis_off()
    ax.set_title(title or map_label(f"title_{scope}_{level}", lang))
    if finite:
        sm = ScalarMappable(norm=norm, cmap=colours)
        fig.colorbar(sm, ax=ax, label=metric_label or "", shrink=0.8)

    if (scope, level) in LABELLED:
        name_key = "name_ru" if lang == "ru" else "name_en"
        halo = [path_effects.withStroke(linewidth=2.0, foreground="white")]
        for key, feat in feats.items():
            props = feat["properties"]
            text = _short(str(names[key] if names and key in names else props[name_key]))
            ax.text(
                props["label_lon"],
                props["label_lat"],
                text,
                fontsize=LABEL_FONT_SIZE,
                ha="center",
                va="center",
                path_effects=halo,
                zorder=5,
            )
    ax.text(
        0.995,
        0.005,
        ATTRIBUTION,
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=ATTRIBUTION_FONT_SIZE,
        color="#555555",
        gid="attribution",
        zorder=6,
    )

    # Tiny units: measured on the laid-out figure, marked when below the pixel minimum.
    fig.canvas.draw()
    tiny = False
    for key, patch in drawn.items():
        if _polygon_pixels(patch) >= MIN_UNIT_PIXELS:
            continue
        feat = feats[key]
        tiny = True
        v = vals.get(key, math.nan)
        props = feat["properties"]
        ax.scatter(
            [props["label_lon"]],
            [props["label_lat"]],
            s=_marker_points2(ax, TINY_MARKER_PIXELS),
            c=[colours(norm(v)) if math.isfinite(v) else NO_DATA_COLOUR],
            edgecolors=EDGE_COLOUR,
            linewidths=0.8,
            hatch=None if math.isfinite(v) else NO_DATA_HATCH,
            zorder=4,
            gid=f"unit:{key}",
        )
    handles = []
    if missing:
        handles.append(
            Patch(
                facecolor=NO_DATA_COLOUR,
                edgecolor=EDGE_COLOUR,
                hatch=NO_DATA_HATCH,
                label=map_label("no_data", lang),
            )
        )
    if tiny:
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                markerfacecolor="white",
                markeredgecolor=EDGE_COLOUR,
                label=map_label("tiny", lang),
            )
        )
    if handles:
        ax.legend(handles=handles, loc="upper left", frameon=True, fontsize=7)
    if synthetic:
        figures.add_synthetic_note(ax, lang)
    return ax
