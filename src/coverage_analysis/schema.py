"""Schemas of the cleaned tables: one declaration per field.

Every table is validated before it is written. Validation is lazy: it
collects every failure (missing column, wrong type, null where not allowed,
value outside the allowed set or range, repeated or null key) and raises one
:class:`~coverage_analysis.errors.SchemaError` listing them all.

>>> import pandas as pd, datetime as dt
>>> ok = pd.DataFrame({"district_id": ["semey"], "year": [2016], "population": [313726],
...                    "source_file": ["p.csv"], "source_sheet": [""], "source_row": [2]})
>>> validate(ok, "population") is ok
True
>>> bad = ok.assign(population=[-1])
>>> try:
...     validate(bad, "population")
... except SchemaError as e:
...     print(str(e).splitlines()[1])
  population: 1 value(s) below 0 (e.g. -1)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from coverage_analysis.domain import (
    CAMPAIGN_END,
    CAMPAIGN_START,
    CHANNELS,
    FORMATS,
    LANGUAGES,
    REGION_ID,
)
from coverage_analysis.errors import SchemaError

#: File name of each cleaned table in the processed folder (outputs.md).
TABLE_FILES: dict[str, str] = {
    "publications": "publications.parquet",
    "legalization": "legalization.parquet",
    "media_plan": "media_plan.parquet",
    "social_reach": "social_reach.parquet",
    "population": "population.parquet",
    "registry_coverage": "registry_coverage.parquet",
}
#: Ledger of rejected rows, cells, columns, sheets and files.
REJECTS_FILE = "rejects.csv"
#: Duplicates dropped while cleaning, with both sources.
DUPLICATES_FILE = "duplicates.csv"
#: Per-sheet row accounting of the cleaning run.
CLEANING_REPORT_FILE = "cleaning_report.json"

#: How many offending values a failure message shows.
EXAMPLES_SHOWN = 3


@dataclass(frozen=True)
class Field:
    """One column: type, nullability, allowed values or range, meaning and unit."""

    name: str
    dtype: str  # "string", "date", "int", "float"
    description: str
    nullable: bool = False
    allowed: tuple[str, ...] | None = None
    minimum: float | dt.date | None = None
    maximum: float | dt.date | None = None
    unit: str | None = None


@dataclass(frozen=True)
class TableSchema:
    """A table: its fields in order and its key (unique, never null)."""

    name: str
    fields: tuple[Field, ...]
    key: tuple[str, ...] = ()
    description: str = ""
    extra_allowed: bool = True

    @property
    def columns(self) -> list[str]:
        """Column names in declared order."""
        return [f.name for f in self.fields]


def _district_ids() -> tuple[str, ...]:
    from coverage_analysis.reference import district_ids

    return (*district_ids(), REGION_ID)


_FIRST, _LAST = CAMPAIGN_START.date(), CAMPAIGN_END.date()
_SOURCE = (
    Field("source_file", "string", "raw file, path relative to the raw folder"),
    Field("source_sheet", "string", "sheet name (empty for a CSV file)"),
    Field(
        "source_row", "int", "1-based row as seen in the spreadsheet, or CSV line number", minimum=1
    ),
)
_DISTRICT = Field(
    "district_id",
    "string",
    "district or city id of districts.csv, or 'region'",
    allowed=("__districts__",),
)
_MONTH = Field("month", "date", "first day of the month", minimum=_FIRST, maximum=_LAST)

SCHEMAS: dict[str, TableSchema] = {
    "publications": TableSchema(
        "publications",
        (
            Field("material_id", "string", "stable id of the material (hash of its source cell)"),
            Field(
                "date",
                "date",
                "publication or event date; null when only the month is known",
                nullable=True,
                minimum=_FIRST,
                maximum=dt.date(2016, 12, 31),
            ),
            _MONTH,
            _DISTRICT,
            Field("channel", "string", "canonical channel id", allowed=CHANNELS),
            Field("outlet", "string", "media outlet as written", nullable=True),
            Field("title", "string", "title or topic as written", nullable=True),
            Field("url", "string", "link as written", nullable=True),
            Field(
                "reach",
                "int",
                "circulation, views or participants; null = unknown",
                nullable=True,
                minimum=0,
                unit="people or copies",
            ),
            Field(
                "language", "string", "language of the material", nullable=True, allowed=LANGUAGES
            ),
            Field("format", "string", "kind of material", nullable=True, allowed=FORMATS),
            *_SOURCE,
        ),
        key=("material_id",),
        description="one row per material or event",
    ),
    "legalization": TableSchema(
        "legalization",
        (
            _DISTRICT,
            _MONTH,
            Field(
                "applications",
                "int",
                "applications for legalization",
                nullable=True,
                minimum=0,
                unit="applications",
            ),
            Field(
                "amount_kzt",
                "float",
                "value of legalized property",
                nullable=True,
                minimum=0,
                unit="tenge",
            ),
        ),
        key=("district_id", "month"),
        description="one row per district and month (DGD statistics)",
    ),
    "media_plan": TableSchema(
        "media_plan",
        (
            _DISTRICT,
            _MONTH,
            Field("channel", "string", "canonical channel id", allowed=CHANNELS),
            Field(
                "planned",
                "float",
                "planned materials or events (quarters spread over months)",
                nullable=True,
                minimum=0,
                unit="materials",
            ),
            Field(
                "actual_reported",
                "float",
                "materials or events the plan reports as done",
                nullable=True,
                minimum=0,
                unit="materials",
            ),
            *_SOURCE,
        ),
        key=("district_id", "month", "channel"),
        description="one row per district, month and channel",
    ),
    "social_reach": TableSchema(
        "social_reach",
        (
            _DISTRICT,
            _MONTH,
            Field("platform", "string", "social platform id (platforms.csv)"),
            Field("posts", "int", "posts published", nullable=True, minimum=0, unit="posts"),
            Field(
                "users_reached",
                "int",
                "users reached (reach, followers or views)",
                nullable=True,
                minimum=0,
                unit="users",
            ),
            *_SOURCE,
        ),
        key=("district_id", "month", "platform"),
        description="one row per district, month and platform",
    ),
    "population": TableSchema(
        "population",
        (
            _DISTRICT,
            Field("year", "int", "calendar year", minimum=1990, maximum=2100),
            Field("population", "int", "resident population", minimum=0, unit="people"),
            *_SOURCE,
        ),
        key=("district_id", "year"),
        description="one row per district and year; overrides the shipped reference",
    ),
    "registry_coverage": TableSchema(
        "registry_coverage",
        (
            _DISTRICT,
            _MONTH,
            Field("source_file", "string", "registry file that covers the district and month"),
            Field("source_sheet", "string", "sheet of that file (empty for CSV)"),
        ),
        key=("district_id", "month", "source_file", "source_sheet"),
        description="district x months each publication registry sheet reports on",
    ),
}


#: ``pandas.api.types.infer_dtype`` results accepted for each declared type.
_INFERRED: dict[str, frozenset[str]] = {
    "string": frozenset({"string", "empty"}),
    "datetime": frozenset({"datetime64", "datetime", "empty"}),
    "date": frozenset({"date", "empty"}),
    "int": frozenset({"integer", "empty"}),
    "float": frozenset({"floating", "integer", "empty", "mixed-integer-float"}),
}


def _check_dtype(series: pd.Series, f: Field) -> str | None:
    if f.dtype == "date" and pd.api.types.is_datetime64_dtype(series.dtype):
        # a time of day: a timestamp that is not a whole number of days since the epoch
        values = series.to_numpy()
        unit = np.datetime_data(values.dtype)[0]
        day = int(np.timedelta64(1, "D").astype(f"timedelta64[{unit}]").astype(np.int64))
        ticks = values.view(np.int64)[~np.isnat(values)]
        if (ticks % day != 0).any():
            return "timestamps with a time of day where a date is declared"
        return None
    if f.dtype == "int" and pd.api.types.is_integer_dtype(series.dtype):
        return None
    if f.dtype == "float" and pd.api.types.is_float_dtype(series.dtype):
        return None
    if f.dtype in ("int", "float"):
        return f"column dtype {series.dtype} is not {f.dtype}"
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    if inferred not in _INFERRED[f.dtype]:
        return f"values not of type {f.dtype} (found {inferred})"
    return None


def _py(value: object) -> object:
    """A numpy scalar as the plain Python value (for messages)."""
    return value.item() if hasattr(value, "item") else value


def _arrow_data(values: pd.Series) -> object:
    """The Arrow array of an Arrow-backed column (one chunk), else None."""
    import pyarrow as pa

    dtype = values.dtype
    arrow = isinstance(dtype, pd.ArrowDtype) or (
        isinstance(dtype, pd.StringDtype) and str(dtype.storage).startswith("pyarrow")
    )
    if not arrow:
        return None
    arr = values.array.__arrow_array__()  # public: the column's own Arrow data
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    return arr


def _all_distinct(frame: pd.DataFrame, key: list[str]) -> bool:
    """True when a one-column Arrow-backed key is known to hold no value twice (Arrow's
    distinct values, nulls included, are as many as the rows: one hash pass, no codes
    per row as in ``DataFrame.duplicated``); False means "not known" (the caller looks
    for the duplicated rows).

    >>> f = pd.DataFrame({"k": pd.array(["a", "b", "a"], dtype="string[pyarrow]")})
    >>> _all_distinct(f, ["k"]), _all_distinct(f.iloc[:2], ["k"])
    (False, True)
    """
    import pyarrow.compute as pc

    if len(key) != 1:
        return False
    arr = _arrow_data(frame[key[0]])
    return arr is not None and len(pc.unique(arr)) == len(arr)


def validate(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Check ``frame`` against schema ``name``; return it unchanged or raise listing every failure."""
    schema = SCHEMAS[name]
    failures: list[str] = []
    for f in schema.fields:
        if f.name not in frame.columns:
            failures.append(f"{f.name}: column missing")
            continue
        s = frame[f.name]
        problem = _check_dtype(s, f)
        if problem:
            failures.append(f"{f.name}: {problem}")
            continue
        bounded = f.minimum is not None or f.maximum is not None
        # distinct values first: a few, whatever the length (and no null among them: no scan)
        uniq = pd.unique(s) if f.allowed is not None and len(s) else None
        if uniq is not None and not any(pd.isna(v) for v in uniq):
            na, nulls = None, 0
        else:
            na = s.isna().to_numpy()
            nulls = int(na.sum())
        if nulls and not f.nullable:
            failures.append(f"{f.name}: {nulls} null value(s) where none is allowed")
        # (the values alone: masking the index too costs as much again)
        values = pd.Series(s.array[~na], name=s.name) if bounded and nulls else s
        low_bound, high_bound = f.minimum, f.maximum
        if pd.api.types.is_datetime64_dtype(s.dtype):
            low_bound = None if low_bound is None else pd.Timestamp(low_bound)
            high_bound = None if high_bound is None else pd.Timestamp(high_bound)
        if f.allowed is not None and len(s):
            allowed = set(_district_ids()) if f.allowed == ("__districts__",) else set(f.allowed)
            out = [v for v in uniq if not pd.isna(v) and v not in allowed]
            if out:
                failures.append(f"{f.name}: value(s) not allowed: {out[:EXAMPLES_SHOWN]!r}")
        if low_bound is not None and len(values) and (below := values < low_bound).any():
            low = values[below]
            if len(low):
                failures.append(
                    f"{f.name}: {len(low)} value(s) below {f.minimum} (e.g. {_py(low.iloc[0])!r})"
                )
        if high_bound is not None and len(values) and (above := values > high_bound).any():
            high = values[above]
            if len(high):
                failures.append(
                    f"{f.name}: {len(high)} value(s) above {f.maximum} (e.g. {_py(high.iloc[0])!r})"
                )
    key = [k for k in schema.key if k in frame.columns]
    if key and len(key) == len(schema.key) and len(frame):
        if any(frame[k].hasnans for k in key):
            failures.append(f"key {key}: null in a key column")
        dup = None if _all_distinct(frame, key) else frame.duplicated(key, keep=False)
        if dup is not None and dup.any():
            example = frame.loc[dup, key].iloc[0].tolist()
            failures.append(f"key {key}: {int(dup.sum())} row(s) share a key (e.g. {example!r})")
    if not schema.extra_allowed:
        extra = [c for c in frame.columns if c not in schema.columns]
        if extra:
            failures.append(f"unexpected columns {extra}")
    if failures:
        raise SchemaError(f"table {name!r} fails its schema:\n  " + "\n  ".join(failures))
    return frame


def describe(name: str) -> pd.DataFrame:
    """The declaration of a table as a frame (for documentation).

    >>> describe("legalization").loc[3, ["field", "unit"]].tolist()
    ['amount_kzt', 'tenge']
    """
    schema = SCHEMAS[name]
    return pd.DataFrame(
        [
            {
                "field": f.name,
                "dtype": f.dtype,
                "nullable": f.nullable,
                "allowed": "district ids + region"
                if f.allowed == ("__districts__",)
                else f.allowed,
                "minimum": f.minimum,
                "maximum": f.maximum,
                "unit": f.unit,
                "description": f.description,
                "is_key": f.name in schema.key,
            }
            for f in schema.fields
        ]
    )
