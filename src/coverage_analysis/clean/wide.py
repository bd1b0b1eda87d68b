"""Wide tables (periods in columns) turned long, column by column.

>>> import numpy as np, pandas as pd
>>> from coverage_analysis.clean.common import Ledger
>>> f = pd.DataFrame({0: ["a", "b"], 1: ["1", ""], 2: ["x", "4"]})
>>> ledger = Ledger()
>>> long = melt_values(f, np.array([5, 6]), {1: "m1", 2: "m2"}, lambda v: (float(v), None) if str(v).isdigit() else (None, "bad"),
...                    ledger, "f.csv", "", "legalization", "value")
>>> long[["pos", "key", "value"]].values.tolist()
[[0, 'm1', 1.0], [1, 'm2', 4.0]]
>>> ledger.frame()["source_row"].tolist()
[5]
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from coverage_analysis.clean.common import Ledger, map_parser
from coverage_analysis.io.readers import is_filled


def melt_values(
    frame: pd.DataFrame,
    rows: np.ndarray,
    columns: dict[int, object],
    parse: Callable[[object], tuple[object, object]],
    ledger: Ledger,
    file: str,
    sheet: str,
    kind: str,
    field_name: str,
    active: np.ndarray | None = None,
) -> pd.DataFrame:
    """Long frame ``pos`` (row position), ``col``, ``key`` (what the column stands for), ``value``.

    Empty cells give no record; a value ``parse`` fails on is a ``cell`` reject.
    ``active`` limits the rows looked at (rejected rows are skipped).
    """
    parts: list[pd.DataFrame] = []
    mask_all = np.ones(len(frame), dtype=bool) if active is None else active
    for col, key in columns.items():
        series = frame[col]
        filled = is_filled(series).to_numpy() & mask_all
        if not filled.any():
            continue
        vals, errs = map_parser(series[filled], parse)
        bad = pd.notna(pd.Series(errs, dtype=object)).to_numpy()
        pos = np.flatnonzero(filled)
        if bad.any():
            ledger.add(
                file,
                sheet,
                rows[pos[bad]],
                kind,
                field_name,
                series.to_numpy(dtype=object)[pos[bad]],
                errs[bad],
                "cell",
            )
        ok = ~bad & pd.notna(pd.Series(vals, dtype=object)).to_numpy()
        parts.append(
            pd.DataFrame(
                {"pos": pos[ok], "col": col, "key": [key] * int(ok.sum()), "value": vals[ok]}
            )
        )
    if not parts:
        return pd.DataFrame(
            {"pos": pd.Series([], dtype=np.int64), "col": [], "key": [], "value": []}
        )
    return pd.concat(parts, ignore_index=True)
