"""Blank, summary and footer lines: vectorised, before any field is parsed.

A line is *blank* when no cell holds a value (a lone ``№ п/п`` number does
not count); it is a *summary* when its first filled cell (or its district
cell) is a total label (``Итого``, ``Всего``, ``ИТОГО по району``) or a
signature/footer line (``Исп. ...``, ``Тел. ...``).

>>> import pandas as pd
>>> f = pd.DataFrame({0: ["1", "", "3", "", "Исп. Петров"], 1: ["Аягоз", "", "Итого", "", ""], 2: ["5", "", "9", "x", ""]})
>>> classify_rows(f, rownum_col=0, key_col=1).tolist()
['', 'blank', 'summary', '', 'summary']
"""

from __future__ import annotations

from concurrent.futures import Future

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from coverage_analysis.clean import fastpath
from coverage_analysis.clean.common import BLANK, SUMMARY
from coverage_analysis.io.readers import is_filled

#: A ``№ п/п`` cell: a number, perhaps with a dot or bracket (``12``, ``12.``, ``12)``, ``12.0``).
ROW_NUMBER = r"\s*\d+(\.0)?[.)]?\s*"


def classify_rows(
    frame: pd.DataFrame,
    rownum_col: int | None = None,
    key_col: int | None = None,
    factorized: dict[object, Future] | None = None,
) -> np.ndarray:
    """``'blank'``, ``'summary'`` or ``''`` (a data row) for every row of ``frame``.

    ``factorized``: pending ``pd.factorize`` of whole columns (by label), used
    instead of factorising the rows looked at (the labels are a pure function
    of the text, so the flags are the same)."""
    from coverage_analysis.clean import parsers

    n = len(frame)
    out = np.full(n, "", dtype=object)
    if n == 0:
        return out
    factorized = factorized or {}

    def flags_of(uniques: object) -> np.ndarray:
        flags = [parsers.is_summary_or_footer(u) for u in uniques]
        return np.asarray([*flags, False], dtype=bool)

    def label_flags(c: object, take: np.ndarray | None = None) -> np.ndarray:
        if c in factorized:
            codes, uniques = factorized[c].result()
            flags = flags_of(uniques)[codes]
            return flags if take is None else flags[take]
        values = frame[c] if take is None else frame[c][take]
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        return flags_of(uniques)[codes]

    any_filled = np.zeros(n, dtype=bool)
    is_total = np.zeros(n, dtype=bool)
    for c in frame.columns:
        filled = is_filled(frame[c]).to_numpy()
        if c == rownum_col:
            # a row number alone does not make a row; a footer written in that column does
            # (Arrow's regex kernel on CSV text: pandas 3 would run Python's ``re`` per row;
            # only on cells that are not plain ASCII digits, which surely are row numbers)
            filled = filled & ~fastpath.fullmatch(frame[c], ROW_NUMBER, pc.ascii_is_decimal)
        take = filled & ~any_filled  # the first filled cell of these rows is in column c
        if take.any():
            is_total[take] = label_flags(c, take)
        any_filled |= filled
    out[~any_filled] = BLANK
    if key_col is not None and key_col in frame.columns:
        is_total |= label_flags(key_col)
    out[any_filled & is_total] = SUMMARY
    return out
