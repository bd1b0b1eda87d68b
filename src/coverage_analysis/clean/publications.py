"""Publication registries: one row per material or event.

Frame in (positional columns of a sheet, rows already stripped of blank and
summary lines), frame out (one record per clean row). Required fields (date,
district, channel) that fail reject the row; optional ones (reach, language,
format) that fail become unknown and leave a ``cell`` ledger line.
Duplicates are found later, across the whole folder (``clean/duplicates.py``).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from concurrent.futures import Future

import numpy as np
import pandas as pd

from coverage_analysis.clean import fastpath
from coverage_analysis.clean.common import (
    OUTSIDE_CAMPAIGN,
    Cleaned,
    Ledger,
    Lookups,
    SheetContext,
    as_datetime,
    month_start,
    parse_unique,
)
from coverage_analysis.domain import CAMPAIGN_END, CAMPAIGN_START

log = logging.getLogger(__name__)

#: Fields without which a row is not a publication.
REQUIRED_FIELDS: tuple[str, ...] = ("date", "district", "channel")
#: Optional fields and their parser (in ``clean/parsers.py``): a bad value is unknown, the row stays.
OPTIONAL_FIELDS: dict[str, str] = {
    "reach": "parse_count",
    "language": "parse_language",
    "format": "parse_format",
}
#: Free-text fields copied as text.
TEXT_FIELDS: tuple[str, ...] = ("outlet", "title", "url")
#: Fields parsed once per distinct cell (their columns are factorised ahead, in threads).
PARSED_FIELDS: tuple[str, ...] = ("date", "district", "channel", "reach", "language", "format")
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
    lookups: Lookups,
    active: np.ndarray | None = None,
    factorized: dict[object, Future] | None = None,
    memo: dict[str, dict[str, object]] | None = None,
) -> Cleaned:
    """Clean records of a registry sheet, its ledger lines and the mask of rejected rows.

    ``active`` marks the data rows of ``frame`` (the others, blank and summary
    lines, are passed over: no parse, no record, no ledger line); the mask
    returned is over the active rows. ``factorized``: pending ``pd.factorize`` of
    whole columns by column label (:func:`fastpath.factorize_ahead`, begun by the
    caller). Every field is parsed once per distinct cell (:func:`parse_unique`);
    rows are only touched through integer codes, and the record columns are built
    for the kept rows alone. ``memo``: the parses of earlier pieces of the same sheet
    (by field, then text), filled in here, so that a registry cleaned piece by piece
    still parses each distinct text once (:func:`remembered`).
    """
    from coverage_analysis.clean import parsers

    n = len(frame)
    if active is None:
        active = np.ones(n, dtype=bool)
    ledger = Ledger()
    rejected = np.zeros(n, dtype=bool)
    missing = pd.Series(np.full(n, None, dtype=object), index=frame.index)

    def col(name: str) -> pd.Series:
        i = ctx.column_of(name)
        return frame[i] if i is not None else missing

    # the parsed columns are factorised in worker threads (those the caller began are reused)
    given = factorized or {}
    ahead = fastpath.factorize_ahead(
        frame, [ctx.column_of(f) for f in PARSED_FIELDS if ctx.column_of(f) not in given]
    )
    ahead = {f: given.get(ctx.column_of(f)) or ahead.get(ctx.column_of(f)) for f in PARSED_FIELDS}

    memo = {} if memo is None else memo
    date_codes, udays, umonths = _dates(
        col("date"), rows, ctx, ledger, rejected, active, ahead, memo.setdefault("date", {})
    )

    # district and channel (required)
    required: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, parse in (
        ("district", lambda v: tuple(lookups.resolver.resolve(v))),
        ("channel", lambda v: tuple(parsers.parse_channel(v))),
    ):
        parse = remembered(parse, memo.setdefault(name, {}))
        codes, vals, errs = parse_unique(col(name), parse, active, ahead[name])
        _reject(ledger, ctx, rows, col(name), codes, errs, vals, name, rejected, active)
        required[name] = (codes, vals)

    keep = active & ~rejected
    every = bool(keep.all())
    kept_codes = date_codes if every else date_codes[keep]
    out: dict[str, object] = {"date": udays[kept_codes], "month": umonths[kept_codes]}
    for name, field_name in (("district", "district_id"), ("channel", "channel")):
        codes, vals = required[name]
        out[field_name] = fastpath.dictionary_text(vals, codes if every else codes[keep])

    # the text columns are filtered by Arrow in a worker thread while the optional fields are parsed
    texts = {
        name: fastpath.submit(fastpath.kept_text, col(name), keep, every) for name in TEXT_FIELDS
    }
    for name, parser_name in OPTIONAL_FIELDS.items():
        parse = remembered(getattr(parsers, parser_name), memo.setdefault(name, {}))
        out[name] = _optional(
            name, col(name), parse, rows, ctx, ledger, keep, every, active, ahead[name]
        )
    for name in TEXT_FIELDS:
        out[name] = texts[name].result()
    out = {c: out[c] for c in RECORD_COLUMNS if c in out}  # the columns in record order

    # fresh arrays: no copy; the few-valued text columns stay Arrow dictionaries until
    # finish_publications (a 10,000,000-row registry is held in memory)
    out["source_file"] = fastpath.constant_text(ctx.file, len(kept_codes))
    out["source_sheet"] = fastpath.constant_text(ctx.sheet, len(kept_codes))
    out["source_row"] = rows if every else rows[keep]
    records = pd.DataFrame(out, copy=False)
    return Cleaned(records, ledger.frame(), rejected[active])


def _dates(
    raw: pd.Series,
    rows: np.ndarray,
    ctx: SheetContext,
    ledger: Ledger,
    rejected: np.ndarray,
    active: np.ndarray,
    ahead: dict[str, Future | None],
    memo: dict[str, object] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The required date (a day, or only a month) of the active rows: ``(codes, days,
    month starts)``, days and months per distinct cell; a row whose date is missing,
    bad or outside the campaign is rejected (``rejected`` is updated in place)."""
    from coverage_analysis.clean import parsers

    def parse_day_month(v: object) -> tuple[object, object]:
        p = parsers.parse_date(v)
        return (
            (None, p.error)
            if p.error is not None or p.value is None
            else (_date_parts(p.value), None)
        )

    parse = parse_day_month if memo is None else remembered(parse_day_month, memo)
    codes, pairs, errs = parse_unique(raw, parse, active, ahead["date"])
    _reject(ledger, ctx, rows, raw, codes, errs, pairs, "date", rejected, active)
    udays, umonths = _split_unique_dates(pairs)
    months = umonths[codes]
    outside = (
        active
        & ~np.isnat(months)
        & ((months < CAMPAIGN_START.to_datetime64()) | (months > CAMPAIGN_END.to_datetime64()))
    )
    new = outside & ~rejected
    ledger.add_for(
        ctx,
        rows[new],
        "date",
        raw.array[new].to_numpy(),
        OUTSIDE_CAMPAIGN,
        "row",
    )
    rejected |= outside
    return codes, udays, umonths


def _optional(
    name: str,
    raw: pd.Series,
    parse: Callable[[object], object],
    rows: np.ndarray,
    ctx: SheetContext,
    ledger: Ledger,
    keep: np.ndarray,
    every: bool,
    active: np.ndarray,
    factorized: Future | None,
) -> np.ndarray:
    """An optional field of the kept rows: a bad value is unknown (None) and gets a
    ``cell`` ledger line; the row stays."""
    codes, vals, errs = parse_unique(raw, lambda v: tuple(parse(v)), active, factorized)
    ubad = pd.notna(errs)
    bad = ubad[codes] & keep
    if bad.any():
        ledger.add_for(
            ctx,
            rows[bad],
            name,
            raw.array[bad].to_numpy(),
            errs[codes[bad]],
            "cell",
        )
        vals = vals.copy()
        vals[ubad] = None
    return fastpath.dictionary_text(vals, codes if every else codes[keep])


def remembered(
    parse: Callable[[object], object], memo: dict[str, object]
) -> Callable[[object], object]:
    """``parse``, answering a text (or None) seen before from ``memo`` (results by text).
    Only text is remembered: other cell values compare equal across types (``1 == 1.0
    == True``) where their parses may differ.

    >>> seen = {}
    >>> calls = []
    >>> p = remembered(lambda v: calls.append(v) or v, seen)
    >>> [p("a"), p("a"), p(1), p(1)], calls
    (['a', 'a', 1, 1], ['a', 1, 1])
    """

    def parse_once(value: object) -> object:
        if value is not None and type(value) is not str:
            return parse(value)
        try:
            return memo[value]
        except KeyError:
            result = memo[value] = parse(value)
            return result

    return parse_once


#: Order of a registry sheet's ledger lines: the steps of :func:`clean_publications`, by
#: field (a date outside the campaign after the dates that do not parse).
LEDGER_STEPS: tuple[str, ...] = ("date", "outside", "district", "channel", *OPTIONAL_FIELDS)


def merge_ledgers(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The ledger lines of a sheet cleaned in pieces, in the order one call on the whole
    sheet gives: step by step (:data:`LEDGER_STEPS`), rows ascending within a step.

    >>> a = pd.DataFrame({"field": ["date", "reach"], "reason": ["bad", "bad"], "source_row": [3, 4]})
    >>> b = pd.DataFrame({"field": ["date"], "reason": ["bad"], "source_row": [9]})
    >>> merge_ledgers([a, b])["source_row"].tolist()
    [3, 9, 4]
    """
    parts = [p for p in parts if len(p)]
    if len(parts) <= 1:
        return parts[0] if parts else Ledger().frame()
    lines = pd.concat(parts, ignore_index=True)
    step = lines["field"].map({f: i for i, f in enumerate(LEDGER_STEPS)}).to_numpy()
    outside = (lines["field"] == "date") & (lines["reason"] == OUTSIDE_CAMPAIGN)
    step = np.where(outside.to_numpy(), LEDGER_STEPS.index("outside"), step)
    order = np.argsort(step, kind="stable")
    return lines.iloc[order].reset_index(drop=True)


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
        ledger.add_for(
            ctx,
            rows[bad],
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
            cols[c] = fastpath.plain_text(s)  # (Arrow dictionaries decoded once, here)
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
