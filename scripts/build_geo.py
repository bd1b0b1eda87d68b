"""Build the national reference and the map geometry from the 2018 boundary shapefiles.

Why a build script: the package draws maps at run time with the json module and
matplotlib alone (no GDAL, no shapely). The heavy work — reading the shapefiles,
computing areas and centroids at full resolution, simplifying the polygons once to what
a figure needs — happens here, once, and its results are package data:

- ``reference/national_districts.csv``, ``reference/national_regions.csv``;
- ``reference/geo/region_districts.geojson`` (East Kazakhstan's 19 units),
  ``national_regions.geojson`` (17), ``national_districts.geojson`` (216).

Run (needs the ``geo`` extra: ``pip install -e '.[geo]'``)::

    .venv/bin/python scripts/build_geo.py            # writes into src/coverage_analysis/reference
    .venv/bin/python scripts/build_geo.py --out /tmp/x

The output is deterministic: the same inputs give byte-identical files (a test checks
that the shipped files are what this script writes). Boundaries: geokz (A. Rodionov),
CC BY 4.0 (``../shared/geo/README.md``).

The build stops with one line naming the problem when the inputs disagree with the
package's East Kazakhstan reference (a KATO code missing, a district centre outside its
polygon).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import shapefile  # pyshp
import shapely
from _geo import csv_text, read_csv, read_shapes
from shapely.geometry import mapping

from coverage_analysis.reference import load_districts, reference_path
from coverage_analysis.reference.national import (
    ATTRIBUTION,
    EAST_KAZAKHSTAN_KATO,
    GEO_DIR,
    GEO_FILES,
    NATIONAL_DISTRICTS_FILE,
    NATIONAL_REGIONS_FILE,
    polygons_area_centroid,
)

#: Repository root (this file is ``scripts/build_geo.py``).
ROOT = Path(__file__).resolve().parent.parent
#: Default folder of the boundary shapefiles.
DEFAULT_GEO_DIR = ROOT.parent / "shared" / "geo"
#: Default district list with KATO codes of East Kazakhstan (the campaign's 19 units).
DEFAULT_SPEC_DISTRICTS = ROOT.parent / "shared" / "spec" / "districts.csv"
#: Default output folder: the package's reference data.
DEFAULT_OUT = ROOT / "src" / "coverage_analysis" / "reference"
#: Shapefile of the 2018 regions (without extension).
ADM1_FILE = "kaz_admbnda_adm1_2018"
#: Shapefile of the 2018 districts (without extension).
ADM2_FILE = "kaz_admbnda_adm2_2018"
#: Expected number of 2018 districts and regions; anything else stops the build.
EXPECTED_UNITS = {"district": 216, "region": 17}
#: Simplification tolerance (degrees) of the region map: about one pixel of an
#: 8-inch, 110-dpi figure of East Kazakhstan (~11 degrees of longitude wide).
REGION_TOLERANCE_DEG = 0.01
#: Simplification tolerance (degrees) of the republic's maps (~40 degrees wide).
NATIONAL_TOLERANCE_DEG = 0.04
#: Decimals kept in the GeoJSON coordinates (0.001 degree is about 100 m).
COORD_DECIMALS = 3
#: Decimals of centroids and label points in the CSVs.
LATLON_DECIMALS = 5
#: Decimals of areas (km²) in the CSVs.
AREA_DECIMALS = 1
#: Vocabulary: 2018 region KATO -> the 2014-2016 region it belongs to.
CAMPAIGN_REGIONS_FILE = "campaign_regions.csv"
#: First two KATO digits of the cities of republican significance (their units are city districts).
REPUBLICAN_CITY_PREFIXES = ("71", "75", "79")
#: KATO digits 3-4 below this are cities of regional significance; from it on, districts.
FIRST_DISTRICT_CODE = 30


def _read_units(path: Path) -> list[tuple[dict, shapely.Geometry]]:
    return [(attrs, shapely.make_valid(geom)) for attrs, geom in read_shapes(path)]


def _polygons(geom: shapely.Geometry) -> list[list[list[tuple[float, float]]]]:
    """GeoJSON-style polygons (list of rings of (lon, lat)) of a (multi)polygon."""
    geom = shapely.geometry.polygon.orient(geom) if geom.geom_type == "Polygon" else geom
    parts = getattr(geom, "geoms", [geom])
    out = []
    for p in parts:
        if p.geom_type != "Polygon" or p.is_empty:
            continue
        out.append([list(p.exterior.coords), *[list(r.coords) for r in p.interiors]])
    return out


def _measure(geom: shapely.Geometry) -> dict[str, float]:
    area, lon, lat = polygons_area_centroid(_polygons(geom))
    label = geom.point_on_surface()
    return {
        "lat": round(lat, LATLON_DECIMALS),
        "lon": round(lon, LATLON_DECIMALS),
        "label_lat": round(label.y, LATLON_DECIMALS),
        "label_lon": round(label.x, LATLON_DECIMALS),
        "area_km2": round(area, AREA_DECIMALS),
    }


def _kind(kato: str) -> str:
    if kato[:2] in REPUBLICAN_CITY_PREFIXES:
        return "city_district"
    return "city" if int(kato[2:4]) < FIRST_DISTRICT_CODE else "district"


def _simplify(geoms: list[shapely.Geometry], tolerance: float) -> list[shapely.Geometry]:
    """Coverage simplification (shared edges simplified once, so neighbours keep meeting),
    then rounding; a unit never disappears (its unsimplified shape is kept if it would)."""
    simple = shapely.coverage_simplify(np.array(geoms, dtype=object), tolerance)
    out = []
    for orig, geom in zip(geoms, simple, strict=True):
        rounded = shapely.set_precision(geom, 10.0**-COORD_DECIMALS)
        if rounded.is_empty or rounded.area == 0.0:
            rounded = shapely.set_precision(orig, 10.0**-COORD_DECIMALS)
        if rounded.is_empty or rounded.area == 0.0:
            rounded = orig
        out.append(rounded)
    return out


def _feature(props: dict, geom: shapely.Geometry) -> dict:
    g = mapping(shapely.geometry.polygon.orient(geom) if geom.geom_type == "Polygon" else geom)
    coords = json.loads(json.dumps(g["coordinates"]))  # tuples -> lists
    rounded = json.loads(json.dumps(coords), parse_float=lambda s: round(float(s), COORD_DECIMALS))
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": g["type"], "coordinates": rounded},
    }


def _geojson(features: list[dict], tolerance: float, level: str) -> str:
    collection = {
        "type": "FeatureCollection",
        "attribution": ATTRIBUTION,
        "source": "geokz (github.com/arodionoff/geokz), kaz_admbnda_adm1/adm2_2018",
        "level": level,
        "simplify_tolerance_deg": tolerance,
        "features": features,
    }
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n"


class BuildError(Exception):
    """The inputs disagree with the package's reference; the message says where."""


def build(geo_dir: Path, spec_districts: Path, out: Path) -> dict[str, int]:
    """Write the national reference CSVs and GeoJSON files into ``out``; return file sizes."""
    adm1 = _read_units(geo_dir / ADM1_FILE)
    adm2 = _read_units(geo_dir / ADM2_FILE)
    for level, units in (("region", adm1), ("district", adm2)):
        if len(units) != EXPECTED_UNITS[level]:
            raise BuildError(
                f"{geo_dir}: {len(units)} {level} units, expected {EXPECTED_UNITS[level]}"
            )
    campaign = {r["region_kato_2018"]: r for r in read_csv(reference_path(CAMPAIGN_REGIONS_FILE))}

    # East Kazakhstan: the package's 19 ids <-> KATO codes of the spec <-> 2018 polygons.
    spec = {r["kato"]: r["district_id"] for r in read_csv(spec_districts)}
    ref = load_districts().set_index("district_id")
    if set(spec.values()) != set(ref.index):
        raise BuildError(f"{spec_districts}: district ids differ from the package's districts.csv")
    ek = {rec["KATO"]: geom for rec, geom in adm2 if rec["KATO"][:2] == EAST_KAZAKHSTAN_KATO[:2]}
    if set(ek) != set(spec):
        raise BuildError(
            f"{geo_dir / ADM2_FILE}: East Kazakhstan KATO codes {sorted(set(ek) ^ set(spec))} "
            f"are in only one of the shapefile and {spec_districts}"
        )
    for kato, district_id in spec.items():
        centre = shapely.Point(float(ref.at[district_id, "lon"]), float(ref.at[district_id, "lat"]))
        if not ek[kato].contains(centre):
            raise BuildError(
                f"districts.csv: centre of {district_id} ({centre.y}, {centre.x}) lies outside "
                f"the 2018 polygon of KATO {kato}"
            )

    regions = []
    for rec, geom in adm1:
        c = campaign.get(rec["KATO"])
        if c is None:
            raise BuildError(f"{CAMPAIGN_REGIONS_FILE}: no 2014-2016 region for KATO {rec['KATO']}")
        regions.append(
            {
                "kato": rec["KATO"],
                "name_kk": rec["ADM1_KK"],
                "name_ru": rec["ADM1_RU"],
                "name_en": rec["ADM1_EN"],
                "iso_3166_2": rec["ISO_3166_2"],
                "kind": "city" if rec["KATO"][:2] in REPUBLICAN_CITY_PREFIXES else "region",
                "campaign_region_id": c["campaign_region_id"],
                "campaign_region_kato": c["campaign_region_kato"],
                "campaign_region_kk": c["campaign_region_kk"],
                "campaign_region_ru": c["campaign_region_ru"],
                "campaign_region_en": c["campaign_region_en"],
                "n_districts": sum(1 for r, _ in adm2 if r["KATO"][:2] == rec["KATO"][:2]),
                **_measure(geom),
            }
        )
    by_prefix = {r["kato"][:2]: r for r in regions}
    districts = []
    for rec, geom in adm2:
        region = by_prefix.get(rec["KATO"][:2])
        if region is None:
            raise BuildError(f"{ADM2_FILE}: district KATO {rec['KATO']} has no region")
        districts.append(
            {
                "kato": rec["KATO"],
                "name_kk": rec["ADM2_KK"],
                "name_ru": rec["ADM2_RU"],
                "name_en": rec["ADM2_EN"],
                "kind": _kind(rec["KATO"]),
                "region_kato": region["kato"],
                "region_en": region["name_en"],
                "campaign_region_id": region["campaign_region_id"],
                "campaign_region_kato": region["campaign_region_kato"],
                "district_id": spec.get(rec["KATO"], ""),
                **_measure(geom),
            }
        )
    key = lambda r: r["kato"]  # noqa: E731
    regions.sort(key=key)
    districts.sort(key=key)

    files: dict[str, str] = {}
    region_cols = list(regions[0])
    district_cols = list(districts[0])
    files[NATIONAL_REGIONS_FILE] = csv_text(regions, region_cols)
    files[NATIONAL_DISTRICTS_FILE] = csv_text(districts, district_cols)

    geom_of = {rec["KATO"]: geom for rec, geom in adm1 + adm2}
    label_cols = ("label_lat", "label_lon", "area_km2")

    def props(row: dict, cols: tuple[str, ...]) -> dict:
        return {c: row[c] for c in cols}

    # Region scope: East Kazakhstan's 19 units with the package's ids and names.
    ek_rows = [d for d in districts if d["district_id"]]
    ek_simple = _simplify([geom_of[d["kato"]] for d in ek_rows], REGION_TOLERANCE_DEG)
    ek_features = []
    for d, g in zip(ek_rows, ek_simple, strict=True):
        names = ref.loc[d["district_id"], ["name_kk", "name_ru", "name_en", "kind"]].to_dict()
        ek_features.append(
            _feature(
                {
                    "district_id": d["district_id"],
                    "kato": d["kato"],
                    **names,
                    **props(d, label_cols),
                },
                g,
            )
        )
    files[f"{GEO_DIR}/{GEO_FILES['region', 'district']}"] = _geojson(
        ek_features, REGION_TOLERANCE_DEG, "district"
    )
    # National scope: regions and districts, each simplified as one coverage.
    for level, rows, cols in (
        (
            "region",
            regions,
            ("kato", "name_kk", "name_ru", "name_en", "kind", "campaign_region_id"),
        ),
        (
            "district",
            districts,
            (
                "kato",
                "name_kk",
                "name_ru",
                "name_en",
                "kind",
                "region_kato",
                "campaign_region_id",
                "district_id",
            ),
        ),
    ):
        simple = _simplify([geom_of[r["kato"]] for r in rows], NATIONAL_TOLERANCE_DEG)
        feats = [
            _feature(props(r, cols + label_cols), g) for r, g in zip(rows, simple, strict=True)
        ]
        files[f"{GEO_DIR}/{GEO_FILES['national', level]}"] = _geojson(
            feats, NATIONAL_TOLERANCE_DEG, level
        )

    sizes = {}
    for name, text in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        sizes[name] = path.stat().st_size
    return sizes


def main(argv: list[str] | None = None) -> int:
    """Command line: build into ``--out``; print each file's size; one line on error."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--geo-dir", type=Path, default=DEFAULT_GEO_DIR, help="folder of the shapefiles")
    p.add_argument(
        "--spec-districts",
        type=Path,
        default=DEFAULT_SPEC_DISTRICTS,
        help="districts.csv with district_id and kato of East Kazakhstan",
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (reference/)")
    args = p.parse_args(argv)
    try:
        sizes = build(args.geo_dir, args.spec_districts, args.out)
    except (BuildError, OSError, shapefile.ShapefileException) as exc:
        print(f"build_geo: {exc}", file=sys.stderr)
        return 1
    for name, size in sizes.items():
        print(f"{size / 1024:8.1f} KiB  {args.out / name}")
    geo_total = sum(s for n, s in sizes.items() if n.startswith(GEO_DIR))
    print(f"{geo_total / 1024:8.1f} KiB  GeoJSON in total")
    return 0


if __name__ == "__main__":
    sys.exit(main())
