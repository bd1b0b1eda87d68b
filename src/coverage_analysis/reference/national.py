"""The republic's regions and districts of the campaign era, and their map geometry.

The package studies East Kazakhstan (``districts.csv``, the default region), but a
district or a region only means something beside the others of the republic. This
module loads the national reference shipped as package data, derived once by
``scripts/build_geo.py`` from the 2018 boundary files of geokz (A. Rodionov,
CC BY 4.0; see ``reference/NATIONAL.md``):

- ``national_districts.csv``: the 216 districts and cities of 2018 (KATO, names in
  kk/ru/en, the 2018 region and the 2014-2016 region it belongs to, centroid, area);
- ``national_regions.csv``: the 17 regions and cities of republican significance of
  2018, each with the 2014-2016 region it belongs to (South Kazakhstan was split in 2018
  into Turkestan region and the city of Shymkent);
- ``geo/*.geojson``: the simplified polygons the maps draw.

Areas are computed on an equal-area projection of the WGS84 ellipsoid (Lambert's
cylindrical equal-area, below), centroids are area centroids on that projection. The
projection is a few lines of closed-form math, so no GDAL or pyproj is needed.

>>> d = load_national_districts()
>>> len(d), d["region_kato"].nunique()
(216, 17)
>>> r = campaign_regions()
>>> len(r), r.loc[r.campaign_region_id == "south_kazakhstan", "n_units_2018"].item()
(16, 2)
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from coverage_analysis.reference import GEO_ATTRIBUTION, reference_path

#: Semi-major axis of the WGS84 ellipsoid, metres.
WGS84_A = 6378137.0
#: Flattening of the WGS84 ellipsoid.
WGS84_F = 1.0 / 298.257223563
#: First eccentricity squared of WGS84.
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)
#: Square metres in a square kilometre.
M2_PER_KM2 = 1.0e6

#: District reference of the republic (2018 units), package data.
NATIONAL_DISTRICTS_FILE = "national_districts.csv"
#: Region reference of the republic (2018 units with their 2014-2016 region), package data.
NATIONAL_REGIONS_FILE = "national_regions.csv"
#: Folder of the simplified GeoJSON files inside ``reference``.
GEO_DIR = "geo"
#: GeoJSON files shipped, by (scope, level).
GEO_FILES: dict[tuple[str, str], str] = {
    ("region", "district"): "region_districts.geojson",
    ("national", "region"): "national_regions.geojson",
    ("national", "district"): "national_districts.geojson",
}
#: The attribution every derived file and every map carries (licence CC BY 4.0).
ATTRIBUTION = GEO_ATTRIBUTION
#: KATO code of East Kazakhstan region (first two digits ``63``).
EAST_KAZAKHSTAN_KATO = "630000000"
#: Id of the 2014-2016 region of East Kazakhstan.
EAST_KAZAKHSTAN_ID = "east_kazakhstan"

_KATO_DTYPES = {
    "kato": str,
    "region_kato": str,
    "campaign_region_kato": str,
    "district_id": str,
}


def _authalic_q(sin_phi: np.ndarray) -> np.ndarray:
    e = math.sqrt(WGS84_E2)
    es = e * sin_phi
    return (1.0 - WGS84_E2) * (
        sin_phi / (1.0 - es * es) - (1.0 / (2.0 * e)) * np.log((1.0 - es) / (1.0 + es))
    )


#: ``q`` at the pole, the authalic normaliser.
_Q_POLE = float(_authalic_q(np.array(1.0)))


def project_equal_area(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """Lambert cylindrical equal-area projection of WGS84 (metres): ``x = a·λ``,
    ``y = a·q(φ)/2`` (Snyder 1987, eq. 10-15). Planar areas on it are areas on the
    ellipsoid.

    >>> x, y = project_equal_area([0.0, 1.0], [0.0, 0.0])
    >>> round(float(x[1] - x[0]), 1), float(y[0])
    (111319.5, 0.0)
    """
    lam = np.deg2rad(np.asarray(lon, dtype=float))
    phi = np.deg2rad(np.asarray(lat, dtype=float))
    return WGS84_A * lam, WGS84_A * _authalic_q(np.sin(phi)) / 2.0


def unproject_equal_area(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`project_equal_area` (series for latitude from authalic
    latitude, Snyder eq. 3-18; error below 1e-8 degrees, about a millimetre).

    >>> lon, lat = unproject_equal_area(*project_equal_area([82.6], [49.97]))
    >>> round(float(lon[0]), 7), round(float(lat[0]), 7)
    (82.6, 49.97)
    """
    e2 = WGS84_E2
    lon = np.rad2deg(np.asarray(x, dtype=float) / WGS84_A)
    beta = np.arcsin(np.clip(2.0 * np.asarray(y, dtype=float) / (WGS84_A * _Q_POLE), -1, 1))
    phi = (
        beta
        + (e2 / 3.0 + 31.0 * e2**2 / 180.0 + 517.0 * e2**3 / 5040.0) * np.sin(2.0 * beta)
        + (23.0 * e2**2 / 360.0 + 251.0 * e2**3 / 3780.0) * np.sin(4.0 * beta)
        + (761.0 * e2**3 / 45360.0) * np.sin(6.0 * beta)
    )
    return lon, np.rad2deg(phi)


def ring_area_centroid(lon: Any, lat: Any) -> tuple[float, float, float]:
    """Signed area (m², positive counter-clockwise) and area centroid (projected x, y)
    of one closed ring given in degrees, on the equal-area projection (shoelace).

    >>> a, _, _ = ring_area_centroid([0, 1, 1, 0, 0], [0, 0, 1, 1, 0])
    >>> round(a / 1e6)  # one degree square at the equator, km²
    12308
    """
    x, y = project_equal_area(lon, lat)
    x0, y0 = float(x[0]), float(y[0])  # shift for numerical stability
    x, y = x - x0, y - y0
    cross = x[:-1] * y[1:] - x[1:] * y[:-1]
    area = float(cross.sum()) / 2.0
    if area == 0.0:
        return 0.0, x0, y0
    cx = float(((x[:-1] + x[1:]) * cross).sum()) / (6.0 * area) + x0
    cy = float(((y[:-1] + y[1:]) * cross).sum()) / (6.0 * area) + y0
    return area, cx, cy


def polygons_area_centroid(
    polygons: list[list[list[tuple[float, float]]]],
) -> tuple[float, float, float]:
    """Area (km²) and area centroid (lon, lat) of a multipolygon given as GeoJSON-style
    rings of ``(lon, lat)``: the first ring of each polygon is its shell, the others
    holes (subtracted whatever their orientation)."""
    total = sx = sy = 0.0
    for rings in polygons:
        for i, ring in enumerate(rings):
            pts = np.asarray(ring, dtype=float)
            a, cx, cy = ring_area_centroid(pts[:, 0], pts[:, 1])
            a = abs(a) if i == 0 else -abs(a)
            total += a
            sx += a * cx
            sy += a * cy
    lon, lat = unproject_equal_area(sx / total, sy / total)
    return total / M2_PER_KM2, float(lon), float(lat)


@lru_cache(maxsize=4)
def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(reference_path(name), comment="#", dtype=_KATO_DTYPES, encoding="utf-8")


def load_national_districts() -> pd.DataFrame:
    """The 216 districts and cities (2018 units) of the republic, one row each: ``kato``,
    ``name_kk``/``name_ru``/``name_en``, ``region_kato`` (2018 region), ``campaign_region_id``
    and ``campaign_region_kato`` (2014-2016 region), ``district_id`` (East Kazakhstan units
    only, the ids of ``districts.csv``), ``lat``/``lon`` (area centroid), ``area_km2``.
    Returns a fresh copy."""
    return _read(NATIONAL_DISTRICTS_FILE).copy()


def load_national_regions() -> pd.DataFrame:
    """The 17 regions and cities of republican significance of 2018, one row each, with the
    2014-2016 region each belongs to (``campaign_region_*``), centroid, area and the number
    of districts. Returns a fresh copy."""
    return _read(NATIONAL_REGIONS_FILE).copy()


def campaign_regions() -> pd.DataFrame:
    """The 16 regions of the campaign era (2014-2016): the 2018 units grouped by their
    ``campaign_region_id``; South Kazakhstan = Turkestan region + Shymkent. Area is the sum,
    the centroid the area-weighted mean of the parts' centroids on the equal-area projection
    (exact for the union, the parts not overlapping)."""
    r = load_national_regions()
    x, y = project_equal_area(r["lon"], r["lat"])
    r = r.assign(_wx=x * r["area_km2"], _wy=y * r["area_km2"])
    g = r.groupby("campaign_region_id", sort=False)
    out = g.agg(
        campaign_region_kato=("campaign_region_kato", "first"),
        name_kk=("campaign_region_kk", "first"),
        name_ru=("campaign_region_ru", "first"),
        name_en=("campaign_region_en", "first"),
        area_km2=("area_km2", "sum"),
        n_districts=("n_districts", "sum"),
        n_units_2018=("kato", "size"),
        _wx=("_wx", "sum"),
        _wy=("_wy", "sum"),
    )
    lon, lat = unproject_equal_area(out["_wx"] / out["area_km2"], out["_wy"] / out["area_km2"])
    out["lon"], out["lat"] = lon.round(5), lat.round(5)
    return out.drop(columns=["_wx", "_wy"]).reset_index()


@lru_cache(maxsize=4)
def _read_geo(name: str) -> dict:
    path = reference_path(f"{GEO_DIR}/{name}")
    return json.loads(path.read_text(encoding="utf-8"))


def load_geojson(scope: str = "region", level: str = "district") -> dict:
    """The simplified GeoJSON FeatureCollection of ``scope`` (``"region"``: East
    Kazakhstan's 19 units; ``"national"``) at ``level`` (``"district"`` or, national only,
    ``"region"``), read with the json module. Returns a deep copy.

    >>> g = load_geojson("region", "district")
    >>> len(g["features"]), g["attribution"]
    (19, 'Boundaries: geokz (A. Rodionov), CC BY 4.0')
    """
    key = (scope, level)
    if key not in GEO_FILES:
        raise ValueError(
            f"no map geometry for scope={scope!r}, level={level!r}; one of {list(GEO_FILES)}"
        )
    return json.loads(json.dumps(_read_geo(GEO_FILES[key])))


# --------------------------------------------------------------------------- national scope

#: District reference of the national scope (216 units, the columns of ``districts.csv``
#: plus ``region_id``/``region_kato``), written by :func:`write_national_reference`.
NATIONAL_REFERENCE_FILE = "national_reference.csv"
#: Population of the 2014-2016 regions (Bureau of National Statistics), package data.
REGION_POPULATION_FILE = "region_population.csv"
#: Note written in ``population_note`` of units outside East Kazakhstan: the national
#: reference holds no district population, the population files give it.
NO_POPULATION_NOTE = "not in the national reference: from the population files"


def _slug(text: str) -> str:
    """``'Al-Farabi'`` -> ``'al_farabi'``.

    >>> _slug("Katon-Karagay (Kotonkaragay)")
    'katon_karagay_kotonkaragay'
    """
    return "_".join(w for w in "".join(c if c.isalnum() else " " for c in text.lower()).split())


def national_reference() -> pd.DataFrame:
    """The district reference of the national scope: every 2018 unit of
    ``national_districts.csv`` in the columns of ``districts.csv``, with ``region_id`` (the
    2014-2016 region) and ``region_kato``. East Kazakhstan keeps its ``district_id``s and
    its reference populations; another unit's id is ``<region_id>__<english name>`` (its KATO
    added where a region has two units of one name) and its ``population_2016`` is empty
    (:data:`NO_POPULATION_NOTE`).

    >>> ref = national_reference()
    >>> len(ref), ref["district_id"].is_unique, ref["region_id"].nunique()
    (216, True, 16)
    """
    from coverage_analysis.reference import DISTRICT_COLUMNS, reference_path

    nat = load_national_districts()
    own = pd.read_csv(reference_path("districts.csv"), dtype={"district_id": str, "kato": str})
    own = own.set_index("kato")
    base = nat["campaign_region_id"] + "__" + nat["name_en"].map(_slug)
    clash = base.duplicated(keep=False)
    ids = base.where(~clash, base + "_" + nat["kato"])
    is_own = nat["kato"].isin(own.index)
    ids = ids.where(~is_own, nat["kato"].map(own["district_id"]))
    out = pd.DataFrame({"district_id": ids, "kato": nat["kato"], "kind": nat["kind"]})
    for col in ("name_ru", "name_kk", "name_en"):
        out[col] = nat[col].where(~is_own, nat["kato"].map(own[col]))
    out["center_ru"] = nat["name_ru"].where(~is_own, nat["kato"].map(own["center_ru"]))
    out["population_2016"] = nat["kato"].map(own["population_2016"]).astype("Int64")
    out["population_note"] = (
        nat["kato"].map(own["population_note"]).where(is_own, NO_POPULATION_NOTE)
    )
    out["lat"] = nat["lat"].where(~is_own, nat["kato"].map(own["lat"]))
    out["lon"] = nat["lon"].where(~is_own, nat["kato"].map(own["lon"]))
    out["region_id"] = nat["campaign_region_id"]
    out["region_kato"] = nat["campaign_region_kato"]
    assert list(out.columns[: len(DISTRICT_COLUMNS) + 1]) == [
        "district_id",
        "kato",
        *DISTRICT_COLUMNS[1:],
    ]
    return out


def write_national_reference(path: Any = None) -> Any:
    """Write :func:`national_reference` as CSV (default: the shipped package file, which a
    test compares with a fresh build). Returns the path."""
    from pathlib import Path

    target = Path(path) if path is not None else national_reference_path()
    import csv

    frame = national_reference()
    with target.open("w", encoding="utf-8", newline="") as fh:  # package data, not an output
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(frame.columns)
        writer.writerows(
            ["" if pd.isna(v) else v for v in row]
            for row in frame.itertuples(index=False, name=None)
        )
    return target


def national_reference_path() -> Any:
    """Path of the shipped national district reference (``COVERAGE_ANALYSIS_DISTRICTS`` in
    the national scope)."""
    return reference_path(NATIONAL_REFERENCE_FILE)


def region_population() -> pd.DataFrame:
    """Population of the 16 regions of the campaign era at the start of 2014, 2015 and 2016
    (BNS series "population of the Republic of Kazakhstan by region", the real workbook
    ``shared/real/population_by_region_2000-2022.xlsx``; South Kazakhstan = the series'
    Turkestan row, which holds Shymkent until 2017): ``region_id``, ``source_name``,
    ``population_2014``, ``population_2015``, ``population_2016``.

    >>> p = region_population()
    >>> len(p), int(p.loc[p.region_id == "east_kazakhstan", "population_2016"].item())
    (16, 1396019)
    """
    return pd.read_csv(reference_path(REGION_POPULATION_FILE), comment="#", encoding="utf-8")


def region_names() -> pd.DataFrame:
    """The 16 campaign-era regions with ``region_id``, ``name_en``, ``name_ru``, ``name_kk``,
    in reference order (from :func:`campaign_regions`)."""
    r = campaign_regions().rename(columns={"campaign_region_id": "region_id"})
    return r[["region_id", "campaign_region_kato", "name_en", "name_ru", "name_kk", "lat", "lon"]]
