"""Maps and the national reference: the shipped GeoJSON and CSVs, their reproducibility from
the shapefiles, and the choropleths drawn from them (attribution, tiny units, labels, no data).
"""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.patches import PathPatch

from coverage_analysis import figures, maps
from coverage_analysis.reference import load_districts, reference_path
from coverage_analysis.reference.national import (
    ATTRIBUTION,
    GEO_DIR,
    GEO_FILES,
    NATIONAL_DISTRICTS_FILE,
    NATIONAL_REGIONS_FILE,
    campaign_regions,
    load_geojson,
    load_national_districts,
    load_national_regions,
)

ROOT = Path(__file__).resolve().parent.parent
#: The shared reference material next to the worktree (shapefiles, spec district list).
SHARED = ROOT.parent / "shared"
SPEC_DISTRICTS = SHARED / "spec" / "districts.csv"
GEO_SOURCE = SHARED / "geo"
#: Official area of Kazakhstan (Bureau of National Statistics), km².
OFFICIAL_AREA_KM2 = 2_724_900
#: Shipped files the build script writes, relative to reference/.
BUILT_FILES = [
    NATIONAL_DISTRICTS_FILE,
    NATIONAL_REGIONS_FILE,
    *[f"{GEO_DIR}/{name}" for name in GEO_FILES.values()],
]


def _spec_kato() -> dict[str, str]:
    if not SPEC_DISTRICTS.exists():
        pytest.skip(f"{SPEC_DISTRICTS} is not there (the shared reference folder is absent)")
    with SPEC_DISTRICTS.open(encoding="utf-8") as fh:
        return {r["district_id"]: r["kato"] for r in csv.DictReader(fh)}


def test__region_geojson__has_the_19_reference_units_with_their_kato() -> None:
    geo = load_geojson("region", "district")
    props = [f["properties"] for f in geo["features"]]
    assert sorted(p["district_id"] for p in props) == sorted(load_districts()["district_id"])
    assert {p["district_id"]: p["kato"] for p in props} == _spec_kato()
    assert geo["attribution"] == ATTRIBUTION


def test__national_geojson__216_districts_and_17_regions_matching_the_csvs() -> None:
    districts, regions = load_national_districts(), load_national_regions()
    gd, gr = load_geojson("national", "district"), load_geojson("national", "region")
    assert len(gd["features"]) == len(districts) == 216
    assert len(gr["features"]) == len(regions) == 17
    assert {f["properties"]["kato"] for f in gd["features"]} == set(districts["kato"])
    assert {f["properties"]["kato"] for f in gr["features"]} == set(regions["kato"])
    assert districts["kato"].str.fullmatch(r"\d{9}").all()
    assert set(districts["region_kato"]) == set(regions["kato"])
    counts = districts.groupby("region_kato").size()
    assert (regions.set_index("kato")["n_districts"] == counts).all()


def test__national_reference__areas_add_up_and_match_the_official_total() -> None:
    districts, regions = load_national_districts(), load_national_regions()
    summed = districts.groupby("region_kato")["area_km2"].sum()
    own = regions.set_index("kato")["area_km2"]
    assert np.allclose(summed[own.index], own, rtol=0.005)  # two sets of polygons agree
    assert abs(own.sum() / OFFICIAL_AREA_KM2 - 1) < 0.01
    for frame in (districts, regions):
        assert frame["lat"].between(40, 56).all() and frame["lon"].between(46, 88).all()
        assert frame[["name_kk", "name_ru", "name_en"]].notna().all().all()


def test__national_reference__east_kazakhstan_units_carry_the_package_ids() -> None:
    districts = load_national_districts()
    ek = districts.loc[districts["district_id"].notna()]
    assert dict(zip(ek["district_id"], ek["kato"], strict=True)) == _spec_kato()
    assert set(ek["campaign_region_id"]) == {"east_kazakhstan"}


def test__campaign_regions__south_kazakhstan_is_turkestan_plus_shymkent() -> None:
    regions = load_national_regions()
    parts = regions.loc[regions["campaign_region_id"] == "south_kazakhstan"]
    assert sorted(parts["name_en"]) == ["Shymkent (city)", "Turkestan"]
    era = campaign_regions().set_index("campaign_region_id")
    assert len(era) == 16
    assert era.at["south_kazakhstan", "area_km2"] == pytest.approx(parts["area_km2"].sum())
    # the union's centroid lies between its parts
    lat = era.at["south_kazakhstan", "lat"]
    assert parts["lat"].min() <= lat <= parts["lat"].max()
    assert era.at["astana", "name_en"] == "Astana (city)"


@pytest.mark.slow
def test__shipped_files__are_what_the_build_script_writes(tmp_path: Path) -> None:
    for module in ("shapefile", "shapely"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed (pip install -e '.[geo]')")
    if not GEO_SOURCE.exists():
        pytest.skip(f"{GEO_SOURCE} is not there (the shared reference folder is absent)")
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_geo.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for name in BUILT_FILES:
        assert (tmp_path / name).read_bytes() == reference_path(name).read_bytes(), name
    geo_bytes = sum((tmp_path / GEO_DIR / n).stat().st_size for n in GEO_FILES.values())
    assert geo_bytes < 1_000_000


def test__build_script__stops_with_one_line_on_a_wrong_district_list(tmp_path: Path) -> None:
    for module in ("shapefile", "shapely"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed (pip install -e '.[geo]')")
    if not GEO_SOURCE.exists():
        pytest.skip(f"{GEO_SOURCE} is not there (the shared reference folder is absent)")
    bad = tmp_path / "districts.csv"
    rows = SPEC_DISTRICTS.read_text(encoding="utf-8").splitlines()
    bad.write_text(
        "\n".join([rows[0], *[r.replace("634800000", "634900000") for r in rows[1:]]]),
        encoding="utf-8",
    )
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "build_geo.py"),
            "--out",
            str(tmp_path / "o"),
            "--spec-districts",
            str(bad),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "634900000" in done.stderr
    assert not (tmp_path / "o").exists()


# -- the maps ---------------------------------------------------------------------------


def _region_values() -> dict[str, float]:
    ids = load_districts()["district_id"].tolist()
    return {d: float(i) for i, d in enumerate(ids) if d != "ayagoz"}  # ayagoz: no data


@pytest.fixture(scope="module")
def drawn() -> dict[str, plt.Axes]:
    districts = load_districts()
    summary = districts.assign(
        name=districts["name_ru"],
        coverage_per_10k=np.linspace(1.0, 9.0, len(districts)),
    )
    national = load_national_districts()
    regions = load_national_regions()
    axes = {
        "region_en": maps.plot_choropleth(
            _region_values(), metric_label=maps.map_label("per_10k"), synthetic=True
        ),
        "district_map_ru": figures.plot_district_map(summary, lang="ru", value="rank"),
        "national_regions_ru": maps.plot_choropleth(
            dict(zip(regions["kato"], regions["n_districts"].astype(float), strict=True)),
            level="region",
            scope="national",
            metric_label="n",
            lang="ru",
        ),
        "national_districts_en": maps.plot_choropleth(
            dict(zip(national["kato"], np.sqrt(national["area_km2"]), strict=True)),
            scope="national",
            metric_label="km",
        ),
    }
    yield axes
    plt.close("all")


def _unit_pixels(ax: plt.Axes, key: str) -> float:
    """Display area (px²) of a unit, computed here from the artists: polygon or marker."""
    gid = f"unit:{key}"
    best = 0.0
    for patch in ax.patches:
        if patch.get_gid() == gid and isinstance(patch, PathPatch):
            for poly in patch.get_path().to_polygons():
                xy = ax.transData.transform(poly)
                x, y = xy[:, 0], xy[:, 1]
                best = max(best, 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
    for coll in ax.collections:
        if coll.get_gid() == gid:
            diameter_px = np.sqrt(coll.get_sizes().max()) * ax.figure.dpi / 72.0
            best = max(best, np.pi / 4 * diameter_px**2)
    return best


def test__every_map__carries_the_attribution(drawn: dict[str, plt.Axes]) -> None:
    for name, ax in drawn.items():
        assert ATTRIBUTION in [t.get_text() for t in ax.texts], name


def test__tiny_units__stay_visible(drawn: dict[str, plt.Axes]) -> None:
    for name in ("region_en", "district_map_ru"):
        for key in ("kurchatov", "ust_kamenogorsk"):
            assert _unit_pixels(drawn[name], key) >= maps.MIN_UNIT_PIXELS, (name, key)
    ax = drawn["national_districts_en"]
    small = [
        k for k in load_national_districts()["kato"] if _unit_pixels(ax, k) < maps.MIN_UNIT_PIXELS
    ]
    assert small == []
    assert any(c.get_gid() and c.get_gid().startswith("unit:") for c in ax.collections)


def test__ru_maps__have_russian_labels(drawn: dict[str, plt.Axes]) -> None:
    texts = [t.get_text() for t in drawn["district_map_ru"].texts]
    assert "Усть-Каменогорск" in texts and "Курчатов" in texts
    assert drawn["district_map_ru"].get_title() == maps.map_label("title_region_district", "ru")
    cbar_label = drawn["district_map_ru"].figure.axes[-1].get_ylabel()
    assert cbar_label == maps.map_label("rank", "ru")
    region_texts = [t.get_text() for t in drawn["national_regions_ru"].texts]
    assert "Восточно-Казахстанская" in region_texts
    assert not any(t.isascii() and t.isalpha() for t in region_texts)


def test__missing_units__are_hatched_no_data(drawn: dict[str, plt.Axes]) -> None:
    ax = drawn["region_en"]
    hatches = {p.get_gid(): p.get_hatch() for p in ax.patches if p.get_gid()}
    assert hatches["unit:ayagoz"] == maps.NO_DATA_HATCH
    assert sum(h is not None for h in hatches.values()) == 1
    assert maps.map_label("no_data") in [t.get_text() for t in ax.get_legend().get_texts()]
    assert figures.label("synthetic") in [t.get_text() for t in ax.figure.texts]


def test__rendered_png__is_a_map_not_a_blank(drawn: dict[str, plt.Axes], tmp_path: Path) -> None:
    paths = figures.save_figure(drawn["region_en"].figure, "region_map", tmp_path, ("png",))
    img = mpimg.imread(paths[0])[..., :3]
    non_white = (img < 0.95).any(axis=-1).mean()
    colours = len(np.unique((img * 255).astype(np.uint8).reshape(-1, 3), axis=0))
    assert non_white > 0.2 and colours > 50


def test__unknown_keys__are_an_error_naming_them() -> None:
    with pytest.raises(ValueError, match="nowhere"):
        maps.plot_choropleth({"nowhere": 1.0})
    with pytest.raises(ValueError, match="scope"):
        maps.plot_choropleth({}, level="region", scope="region")
    plt.close("all")


def test__district_map__of_a_region_without_boundaries_draws_centres() -> None:
    other = pd.DataFrame(
        {
            "district_id": ["x1", "x2"],
            "name": ["X1", "X2"],
            "lat": [43.0, 44.0],
            "lon": [70.0, 71.0],
            "coverage_per_10k": [1.0, 2.0],
        }
    )
    ax = figures.plot_district_map(other)
    assert ax.get_xlabel() == figures.label("lon")
    assert len(ax.collections) == 1
    plt.close("all")
