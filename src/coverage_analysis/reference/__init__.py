"""Reference data shipped with the package: districts, vocabularies.

``load_districts()`` returns the district reference of East Kazakhstan
region (2014-2016) shipped as package data; pass a path to use a user's
own reference for another region (same columns: ``district_id``, ``kind``,
``name_ru``, ``name_kk``, ``name_en``, ``center_ru``, ``population_2016``,
``population_note``, ``lat``, ``lon``; optionally ``kato``, the 9-digit code of the
Classifier of Administrative-Territorial Objects, the most reliable key of official files).

``load_lineage()`` is the boundary lineage computed from the 2018 and 2024 district
polygons by ``scripts/build_lineage.py`` (which later unit lies inside which campaign-era
district); ``load_regions()`` the regions with their two-digit KATO prefix. Both derive
from geokz (A. Rodionov), CC BY 4.0.

>>> d = load_districts()
>>> len(d), d.loc[d.district_id == "ayagoz", "population_2016"].item()
(19, 74000)
>>> district_by_kato()["634800000"]
'zyryanovsk'
"""

from __future__ import annotations

import os
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd

from coverage_analysis.errors import InputFileError

#: Columns a district reference must have.
DISTRICT_COLUMNS: tuple[str, ...] = (
    "district_id",
    "kind",
    "name_ru",
    "name_kk",
    "name_en",
    "center_ru",
    "population_2016",
    "population_note",
    "lat",
    "lon",
)
#: Optional column of a district reference: the unit's 9-digit KATO code.
KATO_COLUMN = "kato"
#: Attribution that travels with everything derived from the district polygons.
GEO_ATTRIBUTION = "Boundaries: geokz (A. Rodionov), CC BY 4.0"
#: Columns of the shipped boundary lineage (``boundary_lineage.csv``).
LINEAGE_COLUMNS: tuple[str, ...] = (
    "later_kato",
    "later_name_ru",
    "later_name_kk",
    "later_name_en",
    "later_region_kato",
    "year",
    "campaign_district_id",
    "campaign_kato",
    "overlap_share",
    "status",
    "note",
)
#: Environment variable naming a user's own district reference CSV.
DISTRICTS_ENV = "COVERAGE_ANALYSIS_DISTRICTS"


def reference_path(name: str) -> Path:
    """Path of a file shipped in ``coverage_analysis/reference``."""
    return Path(str(resources.files("coverage_analysis.reference").joinpath(name)))


@lru_cache(maxsize=8)
def _read_districts(path: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, encoding="utf-8-sig", dtype={"district_id": str})
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputFileError(path, f"cannot read district reference: {exc}") from None
    missing = [c for c in DISTRICT_COLUMNS if c not in frame.columns]
    if missing:
        raise InputFileError(path, f"district reference lacks columns {missing}")
    if KATO_COLUMN not in frame.columns:
        frame.insert(1, KATO_COLUMN, pd.array([pd.NA] * len(frame), dtype="Int64"))
    if frame["district_id"].duplicated().any():
        dup = frame.loc[frame["district_id"].duplicated(), "district_id"].tolist()
        raise InputFileError(path, f"district ids repeat: {dup}")
    return frame


def load_districts(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The district reference: ``path`` if given, else ``$COVERAGE_ANALYSIS_DISTRICTS``,
    else the shipped East Kazakhstan reference. Returns a fresh copy."""
    chosen = path or os.environ.get(DISTRICTS_ENV) or reference_path("districts.csv")
    return _read_districts(str(chosen)).copy()


def district_ids(path: str | os.PathLike[str] | None = None) -> list[str]:
    """District ids of the reference, in reference order (``region`` excluded)."""
    return load_districts(path)["district_id"].tolist()


def district_by_kato(path: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """``{kato code as text: district_id}`` of the reference (units without a code left out)."""
    frame = load_districts(path)
    known = frame[frame[KATO_COLUMN].notna()]
    return {
        str(int(k)): str(d) for k, d in zip(known[KATO_COLUMN], known["district_id"], strict=True)
    }


def _read_commented_csv(name: str) -> pd.DataFrame:
    return pd.read_csv(reference_path(name), comment="#", dtype=str, keep_default_na=False)


@lru_cache(maxsize=1)
def _lineage() -> pd.DataFrame:
    frame = _read_commented_csv("boundary_lineage.csv")
    frame["year"] = frame["year"].astype("int64")
    frame["overlap_share"] = frame["overlap_share"].astype(float)
    return frame[list(LINEAGE_COLUMNS)]


def load_lineage() -> pd.DataFrame:
    """The boundary lineage (``boundary_lineage.csv``): per later unit (``later_kato``,
    names, ``year`` of the division) the campaign district it lies in (``status`` inside)
    or every campaign district it overlaps (``straddles``), with the share of its area.

    >>> lin = load_lineage()
    >>> lin.query("later_name_en == 'Samar'").campaign_district_id.tolist()
    ['kokpekty']
    """
    return _lineage().copy()


@lru_cache(maxsize=1)
def _regions() -> pd.DataFrame:
    return _read_commented_csv("regions.csv")


def load_regions() -> pd.DataFrame:
    """Regions of 2018 and 2024 (``region_kato`` = the first two KATO digits, names in
    Russian, Kazakh and English, ``years``), from the region polygons.

    >>> load_regions().set_index("region_kato").loc["10", "name_en"]
    'Abay'
    """
    return _regions().copy()
