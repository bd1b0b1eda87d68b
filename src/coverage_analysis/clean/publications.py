"""Publication registries: one row per material or event.

Frame in (positional columns of a sheet, rows already stripped of blank and
summary lines), frame out (one record per clean row). Required fields (date,
district, channel) that fail reject the row; optional ones (reach, language,
format) that fail become unknown and leave a ``cell`` ledger line.
Duplicates are found later, across the whole folder (:func:`mark_duplicates`).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from coverage_analysis.clean.common import (
    OUTSIDE_CAMPAIGN,
    Ledger,
    SheetContext,
    filter_rows,
    map_parser,
    month_start,
    object_array,
    split_dates,
    text_array,
)
from coverage_analysis.domain import CAMPAIGN_END, CAMPAIGN_START

log = logging.getLogger(__name__)

#: Fields without which a row is not a publication.
REQUIRED_FIELDS: tuple[str, ...] = ("date", "district", "channel")
#: Free-text fields copied as text.
TEXT_FIELDS: tuple[str, ...] = ("outlet", "title", "url")
#: Columns of a publication record, in output order (before material_id).
RECORD_COLUMNS: tuple[str, ...] = (
    "date",
    "month",
    "district_id",
    "channel",
    "outlet",
    "title",
    "url",
    "reach",
    "language",
    "format",
    "source_file",
    "source_sheet",
    "source_row",
)


def _date_parts(value: object) -> tuple[object, object]:
    """(day or None, month start or None) of a parsed DateValue (or a plain date)."""
    if value is None:
        return None, None
    if hasattr(value, "month") and isinstance(getattr(value, "month", None), pd.Timestamp):
        return value.date, value.month  # a DateValue: month is already a month start
    return pd.Timestamp(value), month_start(value)


def clean_publications(
    frame: pd.DataFrame, rows: np.ndarray, ctx: SheetContext, ledger: Ledger, resolver: object
) -> tuple[pd.DataFrame, np.ndarray]:
    """Clean records of a registry sheet and the mask of rejected rows."""
    from coverage_analysis.clean import parsers

    n = len(frame)
    rejected = np.zeros(n, dtype=bool)
    empty = pd.Series([None] * n, index=frame.index, dtype=object)

    def col(name: str) -> pd.Series:
        i = ctx.column_of(name)
        return frame[i] if i is not None else empty

    out: dict[str, object] = {}

    # date (required): a day, or only a month
    def parse_day_month(v: object) -> tuple[object, object]:
        p = parsers.parse_date(v)
        return (
            (None, p.error)
            if p.error is not None or p.value is None
            else (_date_parts(p.value), None)
        )

    # parsed once per distinct cell; code -1 (an empty cell) takes the last entry
    codes, uniques = pd.factorize(col("date"), use_na_sentinel=True)
    parsed = [parse_day_month(u) for u in uniques] + [parse_day_month(None)]
    derrs = np.asarray([p[1] for p in parsed], dtype=object)[codes]
    pairs = object_array([p[0] for p in parsed])
    dvals = pairs[codes]
    days, months = split_dates(pairs)
    days, months = days[codes], months[codes]
    _reject(ledger, ctx, rows, col("date"), derrs, dvals, "date", rejected)
    outside = ~np.isnat(months) & (
        (months < CAMPAIGN_START.to_datetime64()) | (months > CAMPAIGN_END.to_datetime64())
    )
    new = outside & ~rejected
    ledger.add(
        ctx.file,
        ctx.sheet,
        rows[new],
        ctx.kind,
        "date",
        col("date")[new].to_numpy(),
        OUTSIDE_CAMPAIGN,
        "row",
    )
    rejected |= outside
    out["date"] = days
    out["month"] = months

    # district (required)
    vals, errs = map_parser(col("district"), lambda v: tuple(resolver.resolve(v)))
    _reject(ledger, ctx, rows, col("district"), errs, vals, "district", rejected)
    out["district_id"] = vals
    # channel (required)
    vals, errs = map_parser(col("channel"), lambda v: tuple(parsers.parse_channel(v)))
    _reject(ledger, ctx, rows, col("channel"), errs, vals, "channel", rejected)
    out["channel"] = vals

    for name in TEXT_FIELDS:
        out[name] = text_array(col(name))

    # optional fields: a bad value is unknown, the row stays
    for name, parse in (
        ("reach", parsers.parse_count),
        ("language", parsers.parse_language),
        ("format", parsers.parse_format),
    ):
        vals, errs = map_parser(col(name), lambda v, p=parse: tuple(p(v)))
        bad = pd.notna(pd.Series(errs, dtype=object)).to_numpy() & ~rejected
        if bad.any():
            ledger.add(
                ctx.file,
                ctx.sheet,
                rows[bad],
                ctx.kind,
                name,
                col(name)[bad].to_numpy(),
                errs[bad],
                "cell",
            )
            vals = vals.copy()
            vals[bad] = None
        out[name] = vals

    keep = ~rejected
    records = filter_rows(pd.DataFrame(out), keep)
    records["source_file"] = ctx.file
    records["source_sheet"] = ctx.sheet
    records["source_row"] = rows[keep]
    return records, rejected


def _reject(
    ledger: Ledger,
    ctx: SheetContext,
    rows: np.ndarray,
    raw: pd.Series,
    errs: np.ndarray,
    vals: np.ndarray,
    name: str,
    rejected: np.ndarray,
) -> None:
    """Reject rows whose required ``name`` failed or is missing (one ledger line each)."""
    err_s = pd.Series(errs, dtype=object)
    failed = err_s.notna().to_numpy()
    missing = ~failed & pd.isna(pd.Series(vals, dtype=object)).to_numpy()
    reasons = err_s.where(failed, f"missing {name}").to_numpy()
    bad = failed | missing
    if bad.any():
        ledger.add(
            ctx.file, ctx.sheet, rows[bad], ctx.kind, name, raw[bad].to_numpy(), reasons[bad], "row"
        )
    rejected |= bad


#: Hex digits of the sheet part of a material id.
SHEET_HASH_DIGITS = 10


def material_ids(
    files: pd.Series, sheets: pd.Series, rows: pd.Series
) -> pd.api.extensions.ExtensionArray:
    """Stable ids ``M<sheet hash>-<row>``: the same cell of the same file gives the same id
    in every run, and two rows never share one.

    >>> list(material_ids(pd.Series(["a.csv"]), pd.Series([""]), pd.Series([7])))
    ['M4a1fa0d88d-7']
    """
    import hashlib

    import pyarrow as pa
    import pyarrow.compute as pc

    fcodes, funiques = pd.factorize(files)
    scodes, suniques = pd.factorize(sheets)
    codes = fcodes.astype(np.int64) * max(len(suniques), 1) + scodes
    codes, combos = pd.factorize(codes)
    uniques = [
        f"{funiques[c // max(len(suniques), 1)]}\x1f{suniques[c % max(len(suniques), 1)]}"
        for c in combos
    ]
    prefixes = [
        "M" + hashlib.sha1(u.encode("utf-8")).hexdigest()[:SHEET_HASH_DIGITS] for u in uniques
    ]
    prefix = pa.DictionaryArray.from_arrays(
        pa.array(codes, pa.int32()), pa.array(prefixes, pa.string())
    ).cast(pa.string())
    row_text = pc.cast(pa.array(np.asarray(rows, dtype=np.int64)), pa.string())
    return pd.array(pc.binary_join_element_wise(prefix, row_text, "-"), dtype="string[pyarrow]")


def finish_publications(records: pd.DataFrame) -> pd.DataFrame:
    """Typed publications table with a stable ``material_id`` (a hash of the source cell).

    >>> r = pd.DataFrame({"date": [None], "month": [pd.Timestamp("2016-03-01")], "district_id": ["semey"],
    ...     "channel": ["tv"], "outlet": [None], "title": [None], "url": [None], "reach": [1500],
    ...     "language": [None], "format": ["news"], "source_file": ["a.csv"], "source_sheet": [""], "source_row": [3]})
    >>> t = finish_publications(r)
    >>> t["material_id"].item(), str(t["reach"].dtype)
    ('M4a1fa0d88d-3', 'Int64')
    """
    out = records.reset_index(drop=True)
    out.insert(
        0, "material_id", material_ids(out["source_file"], out["source_sheet"], out["source_row"])
    )
    out["date"] = pd.to_datetime(out["date"])
    out["month"] = pd.to_datetime(out["month"])
    out["reach"] = pd.array(pd.to_numeric(out["reach"]), dtype="Int64")
    out["source_row"] = out["source_row"].astype("int64")
    for c in ("district_id", "channel", "language", "format", "source_file", "source_sheet"):
        out[c] = out[c].astype(object)
    for c in ("outlet", "title", "url"):
        out[c] = out[c].astype("string[pyarrow]")
    return out.reset_index(drop=True)
