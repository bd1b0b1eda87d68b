"""Population by district and year: long (``Район``, ``Год``, ``Численность
населения``) or wide (a column per year, the measure in the header or title).
Records: ``district_id``, ``year``, ``population``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from coverage_analysis.clean.common import (
    Cleaned,
    Ledger,
    Lookups,
    SheetContext,
    parse_required,
)
from coverage_analysis.clean.wide import melt_values

#: Columns of a population record.
RECORD_COLUMNS: tuple[str, ...] = (
    "district_id",
    "year",
    "population",
    "source_file",
    "source_sheet",
    "source_row",
    "rows",
)
#: Years a population figure may be for.
MIN_YEAR, MAX_YEAR = 1990, 2100


def _parse_year(v: object) -> tuple[object, object]:
    from coverage_analysis.clean import parsers

    p = parsers.parse_count(v)
    if p.error is None and p.value is not None and not (MIN_YEAR <= p.value <= MAX_YEAR):
        return None, f"not a year: {v!r}"
    return p.value, p.error


def clean_population(
    frame: pd.DataFrame, rows: np.ndarray, ctx: SheetContext, lookups: Lookups
) -> Cleaned:
    """Records of a population sheet, its ledger lines and the mask of rejected rows (frame in,
    frames out: the ledger is the sheet's own)."""
    ledger = Ledger()
    resolver = lookups.resolver
    from coverage_analysis.clean import parsers

    n = len(frame)
    rejected = np.zeros(n, dtype=bool)
    districts = parse_required(
        frame, rows, ctx, ledger, "district", lambda v: tuple(resolver.resolve(v)), rejected
    )
    count = lambda v: tuple(parsers.parse_count(v))  # noqa: E731
    pop_col = ctx.column_of("population")
    if ctx.column_of("year") is not None and pop_col is not None:
        years = parse_required(frame, rows, ctx, ledger, "year", _parse_year, rejected)
        vals = parse_required(frame, rows, ctx, ledger, "population", count, rejected)
        keep = ~rejected
        long = pd.DataFrame({"pos": np.flatnonzero(keep), "year": years[keep], "value": vals[keep]})
    else:
        cols = {
            c.index: c.period.start.year
            for c in ctx.columns
            if c.period is not None and c.period.kind == "year"
        }
        if not cols and pop_col is not None:
            cols = {pop_col: None}
        long = melt_values(
            frame, rows, cols, count, ledger, ctx.file, ctx.sheet, ctx.kind, "population", ~rejected
        )
        long = long.rename(columns={"key": "year"})
        if long["year"].isna().any():
            year = parsers.parse_period(ctx.title).value
            long["year"] = long["year"].fillna(year[0].year if year else np.nan)
    pos = long["pos"].to_numpy().astype(np.int64)
    out = pd.DataFrame(
        {
            "district_id": districts[pos],
            "year": long["year"].to_numpy(),
            "population": long["value"].to_numpy(),
            "source_row": rows[pos],
        }
    )
    out = out[out["year"].notna()]
    out["rows"] = [(int(r),) for r in out["source_row"]]
    out["source_file"] = ctx.file
    out["source_sheet"] = ctx.sheet
    produced = np.isin(rows, out["source_row"].to_numpy().astype(np.int64))
    empty = ~rejected & ~produced
    ledger.add_for(ctx, rows[empty], "population", "", "no population figure", "row")
    rejected |= ~produced
    return Cleaned(out[list(RECORD_COLUMNS)], ledger.frame(), rejected)


def finish_population(records: pd.DataFrame) -> pd.DataFrame:
    """Typed population table (district x year)."""
    out = records[
        ["district_id", "year", "population", "source_file", "source_sheet", "source_row"]
    ].copy()
    out["year"] = out["year"].astype("int64")
    out["population"] = out["population"].astype("int64")
    out["source_row"] = out["source_row"].astype("int64")
    return out.sort_values(["district_id", "year"]).reset_index(drop=True)
