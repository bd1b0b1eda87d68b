"""Legalization statistics of the State Revenue Department (DGD).

Layouts: wide (districts in rows, months in columns) with the measure named
by a column header, a ``Показатель`` column, a header row above the months or
the sheet title; and long (``Район``, ``Месяц``, one column per measure).
Quarter columns are rejected whole (``column`` ledger line). Amounts are
converted to tenge with the unit found in the header, the label or the title;
cumulative sheets (``нарастающим итогом``) are differenced; a split by kind of
property (деньги / недвижимость / иное имущество) is summed when no total
column exists.

Output records are long: ``district_id``, ``month``, ``measure``
(``applications`` or ``amount_kzt``), ``value`` and the source rows.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from coverage_analysis.clean.common import (
    OUTSIDE_CAMPAIGN,
    Ledger,
    SheetContext,
    map_parser,
    month_start,
    text_values,
)
from coverage_analysis.clean.layout import title_flag
from coverage_analysis.clean.wide import melt_values
from coverage_analysis.domain import CAMPAIGN_END, CAMPAIGN_START
from coverage_analysis.io.headers import HeaderVocabulary

log = logging.getLogger(__name__)

#: Words marking a cumulative ("running total") sheet.
CUMULATIVE_MARKERS: tuple[str, ...] = (
    "нарастающим итогом",
    "нарастающий итог",
    "с начала года",
    "cumulative",
)
#: Measure field of the header vocabulary -> output measure.
MEASURES: dict[str, str] = {"applications": "applications", "amount": "amount_kzt"}
#: Split components of an amount; ``total`` wins over their sum.
COMPONENTS: tuple[str, ...] = ("money", "realty", "other")
#: Columns of a legalization record.
RECORD_COLUMNS: tuple[str, ...] = (
    "district_id",
    "month",
    "measure",
    "value",
    "source_file",
    "source_sheet",
    "source_row",
    "rows",
)


def _header_row_number(ctx: SheetContext) -> int:
    return (ctx.header_rows[-1] + 1) if ctx.header_rows else 0


def _unit(texts: list[str]) -> float | None:
    from coverage_analysis.clean import parsers

    for t in texts:
        if t:
            m = parsers.unit_multiplier(t)
            if m is not None:
                return float(m)
    return None


def _parser_for(measure: str, multiplier: float) -> object:
    from coverage_analysis.clean import parsers

    if measure == "applications":

        def parse_app(v: object) -> tuple[object, object]:
            p = parsers.parse_count(v)
            if p.error is None and p.value is not None and float(p.value) != int(float(p.value)):
                return None, f"not a whole number of applications: {v!r}"
            return (None if p.value is None else float(p.value)), p.error

        return parse_app

    def parse_amount(v: object) -> tuple[object, object]:
        p = parsers.parse_number(v)
        if p.error is not None or p.value is None:
            return None, p.error
        return float(p.value) * multiplier, None

    return parse_amount


def clean_legalization(
    frame: pd.DataFrame,
    rows: np.ndarray,
    ctx: SheetContext,
    ledger: Ledger,
    resolver: object,
    vocab: HeaderVocabulary,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Long records of a DGD sheet and the mask of rejected rows."""
    from coverage_analysis.clean import parsers

    n = len(frame)
    rejected = np.zeros(n, dtype=bool)
    dcol = ctx.column_of("district")
    district_raw = frame[dcol] if dcol is not None else pd.Series([None] * n, dtype=object)
    dvals, derrs = map_parser(district_raw, lambda v: tuple(resolver.resolve(v)))
    err_s = pd.Series(derrs, dtype=object)
    bad = err_s.notna().to_numpy() | pd.isna(pd.Series(dvals, dtype=object)).to_numpy()
    reasons = err_s.where(err_s.notna(), "missing district").to_numpy()
    ledger.add(
        ctx.file,
        ctx.sheet,
        rows[bad],
        ctx.kind,
        "district",
        district_raw[bad].to_numpy(),
        reasons[bad],
        "row",
    )
    rejected |= bad

    texts = [ctx.title, *[c.name for c in ctx.columns]]
    cumulative = any(title_flag(t, *CUMULATIVE_MARKERS) for t in texts)
    title_measure = vocab.search("legalization", ctx.title, ("applications", "amount"))
    title_unit = _unit([ctx.title])
    header_row = _header_row_number(ctx)

    label_col = ctx.column_of("measure")
    labels = (
        text_values(frame[label_col]) if label_col is not None else np.full(n, None, dtype=object)
    )
    label_measure = (
        np.array(
            [
                vocab.search("legalization", t, ("applications", "amount")) if t else None
                for t in labels
            ],
            dtype=object,
        )
        if label_col is not None
        else labels
    )
    label_sub = (
        np.array(
            [
                vocab.search("legalization", t, (*COMPONENTS, "total")) if t else None
                for t in labels
            ],
            dtype=object,
        )
        if label_col is not None
        else labels
    )
    label_unit = (
        np.array([_unit([t]) if t else None for t in labels], dtype=object)
        if label_col is not None
        else labels
    )

    parts: list[pd.DataFrame] = []
    month_col = ctx.column_of("month")
    if month_col is not None:
        # long layout: one row per district and month, a column per measure
        mvals, merrs = map_parser(frame[month_col], lambda v: tuple(parsers.parse_month(v)))
        months = pd.to_datetime(pd.Series([month_start(v) for v in mvals], dtype=object))
        merr_s = pd.Series(merrs, dtype=object)
        mbad = (merr_s.notna() | months.isna()).to_numpy() & ~rejected
        ledger.add(
            ctx.file,
            ctx.sheet,
            rows[mbad],
            ctx.kind,
            "month",
            frame[month_col][mbad].to_numpy(),
            merr_s.where(merr_s.notna(), "missing month").to_numpy()[mbad],
            "row",
        )
        rejected |= mbad
        outside = (
            months.notna() & ((months < CAMPAIGN_START) | (months > CAMPAIGN_END))
        ).to_numpy() & ~rejected
        ledger.add(
            ctx.file,
            ctx.sheet,
            rows[outside],
            ctx.kind,
            "month",
            frame[month_col][outside].to_numpy(),
            OUTSIDE_CAMPAIGN,
            "row",
        )
        rejected |= outside
        for c in ctx.columns:
            if c.field not in MEASURES or c.period is not None:
                continue
            measure = MEASURES[c.field]
            mult = (_unit([c.name]) or title_unit or 1.0) if measure == "amount_kzt" else 1.0
            long = melt_values(
                frame,
                rows,
                {c.index: c.sub},
                _parser_for(c.field, mult),
                ledger,
                ctx.file,
                ctx.sheet,
                ctx.kind,
                c.name,
                ~rejected,
            )
            long["month"] = months.to_numpy()[long["pos"].to_numpy()]
            long["measure"] = measure
            parts.append(long.rename(columns={"key": "component"}))
    else:
        for c in ctx.columns:
            if c.period is None:
                continue
            if c.period.kind != "month":
                ledger.reject_column(
                    ctx,
                    header_row,
                    c.name,
                    f"a {c.period.kind} column is not a month; column not used",
                )
                continue
            month = c.period.start
            if month < CAMPAIGN_START or month > CAMPAIGN_END:
                ledger.reject_column(ctx, header_row, c.name, OUTSIDE_CAMPAIGN)
                continue
            measure_field = c.field if c.field in MEASURES else None
            if measure_field is not None:
                groups = [(np.ones(n, dtype=bool), measure_field, c.sub, _unit([c.name]))]
            elif label_col is not None:
                groups = [(label_measure == m, m, None, None) for m in MEASURES]
            elif title_measure is not None:
                groups = [(np.ones(n, dtype=bool), title_measure, c.sub, _unit([c.name]))]
            else:
                groups = []
            for mask, mfield, sub, unit in groups:
                measure = MEASURES[mfield]
                active = mask & ~rejected
                if not active.any():
                    continue
                if label_col is not None and measure_field is None:
                    # per-row unit and component from the label
                    for u in pd.unique(pd.Series(label_unit[active], dtype=object)):
                        sel = active & (
                            pd.Series(label_unit, dtype=object).eq(u).to_numpy()
                            if u is not None
                            else pd.isna(pd.Series(label_unit, dtype=object)).to_numpy()
                        )
                        mult = (
                            (u or _unit([c.name]) or title_unit or 1.0)
                            if measure == "amount_kzt"
                            else 1.0
                        )
                        long = melt_values(
                            frame,
                            rows,
                            {c.index: None},
                            _parser_for(mfield, mult),
                            ledger,
                            ctx.file,
                            ctx.sheet,
                            ctx.kind,
                            c.name,
                            sel,
                        )
                        long["component"] = label_sub[long["pos"].to_numpy()] if len(long) else []
                        long["month"] = month
                        long["measure"] = measure
                        parts.append(long.drop(columns="key"))
                    continue
                mult = (unit or title_unit or 1.0) if measure == "amount_kzt" else 1.0
                long = melt_values(
                    frame,
                    rows,
                    {c.index: sub},
                    _parser_for(mfield, mult),
                    ledger,
                    ctx.file,
                    ctx.sheet,
                    ctx.kind,
                    c.name,
                    active,
                )
                long["month"] = month
                long["measure"] = measure
                parts.append(long.rename(columns={"key": "component"}))
        if not any(c.period is not None and c.period.kind == "month" for c in ctx.columns):
            pass
        elif (
            not any(c.field in MEASURES for c in ctx.columns)
            and label_col is None
            and title_measure is None
        ):
            ledger.add(
                ctx.file,
                ctx.sheet,
                header_row,
                ctx.kind,
                "measure",
                "",
                "no measure named in a header, a Показатель column or the title",
                "sheet",
            )

    if parts:
        long = pd.concat(parts, ignore_index=True)
    else:
        long = pd.DataFrame(
            {
                "pos": pd.Series([], dtype=np.int64),
                "col": [],
                "component": [],
                "value": [],
                "month": [],
                "measure": [],
            }
        )
    long = long[~rejected[long["pos"].to_numpy().astype(np.int64)]] if len(long) else long
    long["district_id"] = dvals[long["pos"].to_numpy().astype(np.int64)] if len(long) else []
    long["source_row"] = rows[long["pos"].to_numpy().astype(np.int64)] if len(long) else []
    long["value"] = long["value"].astype(float)
    long["month"] = pd.to_datetime(long["month"])
    if cumulative and len(long):
        long = _difference(long, ctx, ledger)
    records = _combine_components(long)
    records["source_file"] = ctx.file
    records["source_sheet"] = ctx.sheet
    produced = np.zeros(n, dtype=bool)
    if len(records):
        produced[
            np.searchsorted(
                rows, np.concatenate([np.asarray(r, dtype=np.int64) for r in records["rows"]])
            )
        ] = True
    # rows that were fine but carried no value at all
    empty = ~rejected & ~produced & ~_had_cell_ledger(ledger, ctx, rows)
    if empty.any():
        ledger.add(
            ctx.file,
            ctx.sheet,
            rows[empty],
            ctx.kind,
            "value",
            "",
            "no value in any measure or month column",
            "row",
        )
    rejected |= ~produced
    return records[list(RECORD_COLUMNS)], rejected


def _had_cell_ledger(ledger: Ledger, ctx: SheetContext, rows: np.ndarray) -> np.ndarray:
    hit: set[int] = set()
    for part in ledger.parts:
        if (
            len(part)
            and part["source_file"].iat[0] == ctx.file
            and part["source_sheet"].iat[0] == ctx.sheet
        ):
            hit.update(int(x) for x in part["source_row"] if x is not None and x == x)
    return np.isin(rows, list(hit))


def _difference(long: pd.DataFrame, ctx: SheetContext, ledger: Ledger) -> pd.DataFrame:
    """Monthly values from running totals, per district, measure and component."""
    long = long.copy()
    long["component"] = long["component"].astype(object).where(long["component"].notna(), "")
    long = long.sort_values(["district_id", "measure", "component", "month"], kind="stable")
    prev = long.groupby(["district_id", "measure", "component"], sort=False)["value"].shift(1)
    monthly = long["value"] - prev.fillna(0.0)
    bad = monthly < 0
    if bad.any():
        b = long[bad]
        ledger.add(
            ctx.file,
            ctx.sheet,
            b["source_row"].to_numpy(),
            ctx.kind,
            "value",
            b["value"].to_numpy(),
            "cumulative series decreases",
            "cell",
        )
    long["value"] = monthly
    long = long[~bad]
    long["component"] = long["component"].replace("", None)
    return long.sort_index()


def _combine_components(long: pd.DataFrame) -> pd.DataFrame:
    """One value per district, month and measure: the total, else the sum of the split."""
    if long.empty:
        return pd.DataFrame({c: [] for c in RECORD_COLUMNS})
    long = long.copy()
    long["is_part"] = long["component"].isin(COMPONENTS)
    keys = ["district_id", "month", "measure"]
    has_total = long.groupby(keys)["is_part"].transform(lambda s: (~s).any())
    use = long[~(has_total & long["is_part"])]
    grouped = use.groupby(keys, sort=False)
    out = grouped.agg(
        value=("value", "sum"),
        source_row=("source_row", "min"),
        rows=("source_row", lambda s: tuple(sorted(set(int(x) for x in s)))),
    )
    contributors = long.groupby(keys, sort=False)["source_row"].agg(
        lambda s: tuple(sorted(set(int(x) for x in s)))
    )
    out["rows"] = contributors.reindex(out.index)
    return out.reset_index()


def finish_legalization(records: pd.DataFrame) -> pd.DataFrame:
    """District x month table: ``applications`` (Int64) and ``amount_kzt`` (tenge).

    >>> r = pd.DataFrame({"district_id": ["semey", "semey"], "month": pd.to_datetime(["2016-01-01"] * 2),
    ...     "measure": ["applications", "amount_kzt"], "value": [3.0, 1e6]})
    >>> finish_legalization(r).values.tolist()
    [['semey', Timestamp('2016-01-01 00:00:00'), 3, 1000000.0]]
    """
    if records.empty:
        wide = pd.DataFrame({"district_id": [], "month": [], "applications": [], "amount_kzt": []})
    else:
        wide = records.pivot_table(
            index=["district_id", "month"], columns="measure", values="value", aggfunc="first"
        ).reset_index()
    for m in MEASURES.values():
        if m not in wide.columns:
            wide[m] = np.nan
    wide["applications"] = (
        pd.array(np.round(wide["applications"].astype(float)), dtype="Int64")
        if len(wide)
        else pd.array([], dtype="Int64")
    )
    wide["amount_kzt"] = wide["amount_kzt"].astype(float)
    wide["month"] = pd.to_datetime(wide["month"])
    wide.columns.name = None
    return (
        wide[["district_id", "month", "applications", "amount_kzt"]]
        .sort_values(["district_id", "month"])
        .reset_index(drop=True)
    )
