"""Regenerate the boundary lineage and the region list from the district polygons.

Why: the campaign's districts are the 2014-2016 ones; later files (a 2023 bulletin)
use the units after the 2022 reform (Abai region split off East Kazakhstan, new
districts cut from old ones, Zyryanovsk district renamed Altai). Which later unit lies
inside which campaign-era district is a fact of geography, so it is computed here from
the polygons of ``../shared/geo`` (geokz, A. Rodionov, CC BY 4.0) by area overlap and
shipped as reviewable CSV files, never typed by hand:

- ``src/coverage_analysis/reference/boundary_lineage.csv``: one line per (later unit,
  campaign district) pair that overlaps, for the 2018 and the 2024 units of the regions
  that hold a campaign district;
- ``src/coverage_analysis/reference/regions.csv``: every region (2018 and 2024) with its
  two-digit KATO prefix and names, used to tell other regions' rows apart.

The package reads only the CSV files; this script needs the ``geo`` extra
(``pip install -e '.[geo]'``: pyshp and shapely, pure wheels, no GDAL). Run::

    .venv/bin/python scripts/build_lineage.py [--geo ../shared/geo] [--out src/coverage_analysis/reference]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import shapely
from _geo import csv_text, read_csv, read_shapes

from coverage_analysis.reference import GEO_ATTRIBUTION, LINEAGE_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
#: Default folder of the shapefiles (the project's read-only reference material).
DEFAULT_GEO = ROOT / ".." / "shared" / "geo"
#: Default output folder (package data).
DEFAULT_OUT = ROOT / "src" / "coverage_analysis" / "reference"
#: The campaign-era district reference (its ``kato`` column keys the 2018 polygons).
DISTRICTS_CSV = DEFAULT_OUT / "districts.csv"
#: Share of a later unit's area inside one campaign district above which it lies "inside"
#: it (the rest is the polygons' 1:1,000,000 generalisation error along shared borders).
INSIDE_SHARE = 0.95
#: Overlaps below this share of the later unit are border slivers and are not listed.
SLIVER_SHARE = 0.01
#: Years of the later division, with their district and region shapefiles.
LATER_YEARS: dict[int, tuple[str, str]] = {
    2018: ("kaz_admbnda_adm2_2018", "kaz_admbnda_adm1_2018"),
    2024: ("kaz_admbnda_adm2_2024", "kaz_admbnda_adm1_2024"),
}
#: Columns of ``regions.csv``.
REGION_COLUMNS = ("region_kato", "name_ru", "name_kk", "name_en", "years")


def _equal_area(geom: object) -> object:
    """Longitude scaled by the cosine of the latitude: areas in (approximately) equal
    units across the few degrees of one region, enough for shares of one unit."""
    return shapely.transform(geom, lambda xy: xy * _cos_lat(xy))


def _cos_lat(xy: object) -> object:
    """Per-point factors (cos(latitude), 1) that scale the longitude only."""
    import numpy as np

    factor = np.ones_like(xy)
    factor[:, 0] = np.cos(np.radians(xy[:, 1]))
    return factor


def _units(path: Path) -> list[tuple[dict[str, object], object]]:
    return [(attrs, _equal_area(geom).buffer(0)) for attrs, geom in read_shapes(path)]


def _campaign_districts() -> dict[str, str]:
    return {row["kato"]: row["district_id"] for row in read_csv(DISTRICTS_CSV)}


def build(geo: Path) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Lineage lines and region lines computed from the shapefiles in ``geo``."""
    by_kato = _campaign_districts()
    old = [(a, g) for a, g in _units(geo / LATER_YEARS[2018][0]) if a["KATO"] in by_kato]
    missing = sorted(set(by_kato) - {a["KATO"] for a, _ in old})
    if missing:
        raise SystemExit(f"campaign districts with no 2018 polygon: {missing}")
    lines: list[dict[str, object]] = []
    regions: dict[str, dict[str, object]] = {}
    for year, (adm2, adm1) in LATER_YEARS.items():
        for attrs, _ in _units(geo / adm1):  # names of the latest year win
            code = str(attrs["KATO"])[:2]
            entry = regions.setdefault(code, {"region_kato": code, "years": []})
            entry.update(
                name_ru=attrs["ADM1_RU"], name_kk=attrs["ADM1_KK"], name_en=attrs["ADM1_EN"]
            )
            entry["years"].append(str(year))
        for attrs, geom in _units(geo / adm2):
            shares = []
            for old_attrs, old_geom in old:
                if not geom.intersects(old_geom):
                    continue
                share = geom.intersection(old_geom).area / geom.area
                if share >= SLIVER_SHARE:
                    shares.append((share, old_attrs))
            if not shares:
                continue
            inside = max(s for s, _ in shares) >= INSIDE_SHARE
            for share, old_attrs in sorted(shares, key=lambda p: -p[0]):
                if inside and share < INSIDE_SHARE:
                    continue
                note = ""
                if year == 2018 and attrs["KATO"] in by_kato:
                    note = "campaign-era unit itself (2018 polygon)"
                    if attrs["ADM2_EN"].lower().startswith("alt"):
                        note += "; named Altai in 2018, Zyryanovsk during the campaign"
                elif inside and old_attrs["KATO"] != attrs["KATO"]:
                    note = "later unit lies inside the campaign district"
                elif not inside:
                    note = "straddles campaign districts: reported, never split"
                lines.append(
                    {
                        "later_kato": attrs["KATO"],
                        "later_name_ru": attrs["ADM2_RU"],
                        "later_name_kk": attrs["ADM2_KK"],
                        "later_name_en": attrs["ADM2_EN"],
                        "later_region_kato": str(attrs["KATO"])[:2],
                        "year": year,
                        "campaign_district_id": by_kato[old_attrs["KATO"]],
                        "campaign_kato": old_attrs["KATO"],
                        "overlap_share": f"{share:.3f}",
                        "status": "inside" if inside else "straddles",
                        "note": note,
                    }
                )
    lines.sort(key=lambda r: (r["year"], r["later_kato"], r["campaign_kato"]))
    region_lines = [
        {**r, "years": " ".join(sorted(set(r["years"])))} for _, r in sorted(regions.items())
    ]
    return lines, region_lines


def to_csv(rows: list[dict[str, object]], columns: tuple[str, ...]) -> str:
    """The rows as CSV text (LF line ends), with the attribution as a leading comment."""
    note = f"{GEO_ATTRIBUTION}; generated by scripts/build_lineage.py, do not edit by hand"
    return csv_text(rows, columns, comment=note)


def main(argv: list[str] | None = None) -> None:
    """Write ``boundary_lineage.csv`` and ``regions.csv``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--geo", type=Path, default=DEFAULT_GEO)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    lines, regions = build(args.geo)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "boundary_lineage.csv").write_text(to_csv(lines, LINEAGE_COLUMNS), "utf-8")
    (args.out / "regions.csv").write_text(to_csv(regions, REGION_COLUMNS), "utf-8")
    straddling = sorted({r["later_kato"] for r in lines if r["status"] == "straddles"})
    print(
        f"{len(lines)} lineage lines ({len(straddling)} straddling units), "
        f"{len(regions)} regions -> {args.out}"
    )


if __name__ == "__main__":
    main()
