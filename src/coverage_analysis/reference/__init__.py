"""Reference data shipped with the package: districts, vocabularies.

``load_districts()`` returns the district reference of East Kazakhstan
region (2014-2016) shipped as package data; pass a path to use a user's
own reference for another region (same columns: ``district_id``, ``kind``,
``name_ru``, ``name_kk``, ``name_en``, ``center_ru``, ``population_2016``,
``population_note``, ``lat``, ``lon``).

>>> d = load_districts()
>>> len(d), d.loc[d.district_id == "ayagoz", "population_2016"].item()
(19, 74000)
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
