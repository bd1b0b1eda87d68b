"""Publication registries: one row per material or event.

Frame in (positional columns of a sheet, rows already stripped of blank and
summary lines), frame out (one record per clean row). Required fields (date,
district, channel) that fail reject the row; optional ones (reach, language,
format) that fail become unknown and leave a ``cell`` ledger line.
Duplicates are found later, across the whole folder (:func:`mark_duplicates`).
"""

from __future__ import annotations

import copy
import logging
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pandas as pd

from coverage_analysis.clean.common import (
    OUTSIDE_CAMPAIGN,
    Ledger,
    SheetContext,
    as_datetime,
    is_arrow_string,
    month_start,
    parse_unique,
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
    frame: pd.DataFrame,
    rows: np.ndarray,
    ctx: SheetContext,
    ledger: Ledger,
    resolver: object,
    active: np.ndarray | None = None,
    ahead: dict[object, Future] | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Clean records of a registry sheet and the mask of rejected rows.

    ``active`` marks the data rows of ``frame`` (the others, blank and summary
    lines, are passed over: no parse, no record, no ledger line); the mask
    returned is over the active rows. ``ahead``: pending ``pd.factorize`` of whole
    columns by column label (begun by the caller). Every field is parsed once per distinct
    cell (:func:`parse_unique`); rows are only touched through integer codes,
    and the record columns are built for the kept rows alone.
    """
    from coverage_analysis.clean import parsers

    n = len(frame)
    if active is None:
        active = np.ones(n, dtype=bool)
    rejected = np.zeros(n, dtype=bool)
    empty: list[pd.Series] = []

    def col(name: str) -> pd.Series:
        i = ctx.column_of(name)
        if i is not None:
            return frame[i]
        if not empty:
            empty.append(pd.Series(np.full(n, None, dtype=object), index=frame.index))
        return empty[0]

    # the parsed columns are factorised ahead, two at a time (Arrow hashes without the GIL)
    given = ahead or {}
    pool = ThreadPoolExecutor(max_workers=2)
    ahead = {}
    for name in ("date", "district", "channel", "reach", "language", "format"):
        i = ctx.column_of(name)
        if i in given:
            ahead[name] = given[i]
        elif is_arrow_string(col(name)):
            ahead[name] = pool.submit(pd.factorize, col(name), use_na_sentinel=True)
    pool.shutdown(wait=False)

    # date (required): a day, or only a month
    def parse_day_month(v: object) -> tuple[object, object]:
        p = parsers.parse_date(v)
        return (
            (None, p.error)
            if p.error is not None or p.value is None
            else (_date_parts(p.value), None)
        )

    codes, pairs, errs = parse_unique(col("date"), parse_day_month, active, ahead.get("date"))
    _reject(ledger, ctx, rows, col("date"), codes, errs, pairs, "date", rejected, active)
    udays, umonths = _split_unique_dates(pairs)
    months = umonths[codes]
    outside = (
        active
        & ~np.isnat(months)
        & ((months < CAMPAIGN_START.to_datetime64()) | (months > CAMPAIGN_END.to_datetime64()))
    )
    new = outside & ~rejected
    ledger.add(
        ctx.file,
        ctx.sheet,
        rows[new],
        ctx.kind,
        "date",
        col("date").array[new].to_numpy(),
        OUTSIDE_CAMPAIGN,
        "row",
    )
    rejected |= outside
    date_codes = codes

    # district and channel (required)
    required: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, parse in (
        ("district", lambda v: tuple(resolver.resolve(v))),
        ("channel", lambda v: tuple(parsers.parse_channel(v))),
    ):
        codes, vals, errs = parse_unique(col(name), parse, active, ahead.get(name))
        _reject(ledger, ctx, rows, col(name), codes, errs, vals, name, rejected, active)
        required[name] = (codes, vals)

    keep = active & ~rejected
    every = bool(keep.all())
    kept_codes = date_codes if every else date_codes[keep]
    out: dict[str, object] = {"date": udays[kept_codes], "month": umonths[kept_codes]}
    for name, field_name in (("district", "district_id"), ("channel", "channel")):
        codes, vals = required[name]
        out[field_name] = vals[codes if every else codes[keep]]

    # the text columns are filtered by Arrow (no GIL) while the optional fields are parsed
    pool = ThreadPoolExecutor(max_workers=1)
    texts = {name: pool.submit(_kept_text, col(name), keep, every) for name in TEXT_FIELDS}
    pool.shutdown(wait=False)

    # optional fields: a bad value is unknown, the row stays
    for name, parse in (
        ("reach", parsers.parse_count),
        ("language", parsers.parse_language),
        ("format", parsers.parse_format),
    ):
        codes, vals, errs = parse_unique(
            col(name), lambda v, p=parse: tuple(p(v)), active, ahead.get(name)
        )
        ubad = pd.notna(errs)
        bad = ubad[codes] & keep
        if bad.any():
            ledger.add(
                ctx.file,
                ctx.sheet,
                rows[bad],
                ctx.kind,
                name,
                col(name).array[bad].to_numpy(),
                errs[codes[bad]],
                "cell",
            )
            vals = vals.copy()
            vals[ubad] = None
        out[name] = vals[codes if every else codes[keep]]
    for name in TEXT_FIELDS:
        out[name] = texts[name].result()
    out = {c: out[c] for c in RECORD_COLUMNS if c in out}  # the columns in record order

    records = pd.DataFrame(out, copy=False)  # fresh arrays: no copy
    records["source_file"] = ctx.file
    records["source_sheet"] = ctx.sheet
    records["source_row"] = rows if every else rows[keep]
    return records, rejected[active]


def _split_unique_dates(pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Days and month starts (``datetime64[ns]``, NaT for None) of parsed ``(day, month)`` pairs."""
    nat = np.datetime64("NaT", "ns")
    days = np.array(
        [nat if p is None or p[0] is None else np.datetime64(p[0], "ns") for p in pairs],
        dtype="datetime64[ns]",
    )
    months = np.array(
        [nat if p is None or p[1] is None else np.datetime64(p[1], "ns") for p in pairs],
        dtype="datetime64[ns]",
    )
    return days, months


def _kept_text(values: pd.Series, keep: np.ndarray, every: bool) -> object:
    """:func:`text_array` of the kept rows (filtered first: less to strip; Arrow
    kernels skipped when they would change nothing)."""
    if isinstance(values.dtype, pd.StringDtype) and hasattr(values.array, "_pa_array"):
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = values.array._pa_array
        if not every:
            arr = arr.filter(pa.array(keep))
        if _may_need_trim(arr):
            arr = pc.utf8_trim_whitespace(arr)
        blank = pc.equal(pc.binary_length(arr), 0)
        if arr.null_count or pc.any(blank).as_py():
            arr = pc.if_else(blank, None, arr)
        return pd.array(arr, dtype=values.dtype)
    return text_array(values if every else values[keep])


#: Bytes that may begin a whitespace character (ASCII controls and space; lead bytes
#: of U+0085, U+00A0, U+1680, U+180E, U+2000-U+205F, U+3000).
_SPACE_FIRST = np.array([*range(0x21), 0xC2, 0xE1, 0xE2, 0xE3], dtype=np.uint8)
#: Second-to-last byte of a multi-byte whitespace character.
_SPACE_PREV = np.array([0xC2, 0x9A, 0x80, 0x81, 0xA0], dtype=np.uint8)


def _may_need_trim(arr: object) -> bool:
    """False only when no string of ``arr`` (an Arrow string array) can begin or end
    with whitespace: a look at the first and last bytes, no string is copied.

    >>> import pyarrow as pa
    >>> _may_need_trim(pa.chunked_array([["a b", "Аягоз"]])), _may_need_trim(pa.array(["a", "b\u00a0"]))
    (False, True)
    """
    import pyarrow as pa

    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    for chunk in chunks:
        if len(chunk) == 0:
            continue
        if chunk.type == pa.large_string():
            width = np.int64
        elif chunk.type == pa.string():
            width = np.int32
        else:
            return True
        _, offsets, data = chunk.buffers()
        if data is None:
            continue
        off = np.frombuffer(offsets, dtype=width)[chunk.offset : chunk.offset + len(chunk) + 1]
        starts, ends = off[:-1], off[1:]
        filled = ends > starts
        starts, ends = starts[filled], ends[filled]
        raw = np.frombuffer(data, dtype=np.uint8)
        if np.isin(raw[starts], _SPACE_FIRST).any() or (raw[ends - 1] <= 0x20).any():
            return True
        ends = ends[ends - starts >= 2]
        if np.isin(raw[ends - 2], _SPACE_PREV).any():
            return True
    return False


def _reject(
    ledger: Ledger,
    ctx: SheetContext,
    rows: np.ndarray,
    raw: pd.Series,
    codes: np.ndarray,
    errs: np.ndarray,
    vals: np.ndarray,
    name: str,
    rejected: np.ndarray,
    active: np.ndarray,
) -> None:
    """Reject active rows whose required ``name`` failed or is missing (one ledger line
    each); ``errs`` and ``vals`` are per distinct cell, ``codes`` maps rows to them."""
    failed = pd.notna(errs)
    missing = ~failed & pd.isna(vals)
    reasons = np.where(failed, errs, f"missing {name}")
    bad_u = failed | missing
    if bad_u.any():
        bad = bad_u[codes] & active
        ledger.add(
            ctx.file,
            ctx.sheet,
            rows[bad],
            ctx.kind,
            name,
            raw.array[bad].to_numpy(),
            reasons[codes[bad]],
            "row",
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
    cols: dict[str, object] = {
        "material_id": material_ids(
            records["source_file"], records["source_sheet"], records["source_row"]
        )
    }
    for c in records.columns:
        s = records[c]
        if c in ("date", "month"):
            cols[c] = as_datetime(s).to_numpy()
        elif c == "reach":
            cols[c] = _int64_by_value(s)
        elif c == "source_row":
            cols[c] = s.to_numpy(dtype="int64")
        elif c in ("district_id", "channel", "language", "format", "source_file", "source_sheet"):
            cols[c] = s.to_numpy(dtype=object)
        elif c in ("outlet", "title", "url"):
            cols[c] = s.astype("string[pyarrow]").array
        else:
            cols[c] = s.array
    # one frame, the arrays as they are (no per-column copy, no index to reset)
    out = pd.DataFrame(cols, index=pd.RangeIndex(len(records)), copy=False)
    out.attrs = copy.deepcopy(records.attrs)  # as reset_index would
    return out


def _int64_by_value(values: pd.Series) -> pd.api.extensions.ExtensionArray:
    """``pd.array(pd.to_numeric(values), dtype="Int64")``, converting each distinct value once.

    >>> _int64_by_value(pd.Series([1500, None, 1500, 3], dtype=object)).tolist()
    [1500, <NA>, 1500, 3]
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if (codes < 0).any():  # a missing value takes part, as in the column itself
        uniques = pd.Index([*uniques, None], dtype=object)
        codes = np.where(codes < 0, len(uniques) - 1, codes)
    numbers = pd.array(pd.to_numeric(np.asarray(uniques, dtype=object)), dtype="Int64")
    return numbers.take(codes)
