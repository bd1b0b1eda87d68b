"""Duplicates and conflicts across the whole folder, found after every sheet is cleaned.

A publication is a duplicate of an earlier one with the same URL, or the same
outlet, title and date (compared lower-cased, ``ё`` as ``е``, whitespace
collapsed; URLs without scheme, ``www.`` and trailing slash). A record of another
kind repeating an earlier key (district, month, measure/channel/platform, or year)
is a duplicate when its value is the same and a conflict when it differs: the
earlier one is kept, and a conflict gets a ledger line naming it. The text
normalisation kernels live in :mod:`~coverage_analysis.clean.fastpath`.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import wait

import numpy as np
import pandas as pd
import pyarrow as pa

from coverage_analysis.clean import fastpath
from coverage_analysis.clean.common import Ledger, as_datetime, display

#: Columns of ``duplicates.csv``.
DUPLICATE_COLUMNS: tuple[str, ...] = (
    "kind",
    "matched_on",
    "kept_file",
    "kept_sheet",
    "kept_row",
    "dropped_file",
    "dropped_sheet",
    "dropped_row",
)
#: Value columns compared when the same district x month (x ...) comes twice.
VALUE_COLUMNS: dict[str, tuple[str, ...]] = {
    "legalization": ("value",),
    "media_plan": ("planned", "actual_reported"),
    "social_reach": ("posts", "users_reached"),
    "population": ("population",),
}
#: Key columns of the non-publication kinds (record level, before the final pivot).
RECORD_KEYS: dict[str, tuple[str, ...]] = {
    "legalization": ("district_id", "month", "measure"),
    "media_plan": ("district_id", "month", "channel"),
    "social_reach": ("district_id", "month", "platform"),
    "population": ("district_id", "year"),
}
#: Relative tolerance within which two reported values are the same value.
SAME_VALUE_RTOL = 1e-9
#: Records up to which the URL and title keys are hashed side by side. Above (a national
#: registry), memory comes first: one after the other, and the memory Arrow freed is given
#: back before numpy groups the codes. Each key holds a normalised copy of its column and
#: Arrow's dictionary of it (about 1 GB for 10,000,000 URLs, 2.4 GB for the titles), and
#: Arrow's pool keeps freed memory: together they made the peak of a national clean.
LARGE_ROWS = 2_000_000


def publication_duplicates(records: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Mask of later copies of a material (same URL, or same outlet, title and date)
    and the pairs (kept, dropped) for ``duplicates.csv``.

    >>> r = pd.DataFrame({"url": ["http://a.kz/1", "a.kz/1/", None], "outlet": ["X", "y", "X"],
    ...     "title": ["T", "T", "t "], "date": [pd.Timestamp("2016-01-02")] * 3, "month": [pd.Timestamp("2016-01-01")] * 3,
    ...     "source_file": ["f", "f", "g"], "source_sheet": ["", "", ""], "source_row": [2, 3, 4]})
    >>> mask, pairs = publication_duplicates(r)
    >>> mask.tolist(), pairs["matched_on"].tolist(), pairs["kept_row"].tolist()
    ([False, True, True], ['url', 'outlet, title and date'], [2, 2])
    """
    n = len(records)
    dup = np.zeros(n, dtype=bool)
    first_of = np.full(n, -1, dtype=np.int64)
    matched = np.full(n, "", dtype=object)
    if n == 0:
        return dup, pd.DataFrame(columns=list(DUPLICATE_COLUMNS))
    # Arrow's kernels release the GIL: the two long columns are normalised, hashed and
    # grouped side by side in worker threads (the title's task once the outlet and date
    # it is keyed with are known)
    large = n > LARGE_ROWS
    url_task = fastpath.submit(_keyed_firsts, records["url"], fastpath.norm_url, (), large)
    when = (
        as_datetime(records["date"])
        .fillna(as_datetime(records["month"]))
        .to_numpy("datetime64[ns]")
        .view(np.int64)
    )
    outlet = fastpath.norm_codes(records["outlet"], fastpath.norm_text)
    if large:  # a national registry: one key's copies in memory at a time
        wait([url_task])
    title_task = fastpath.submit(
        _keyed_firsts, records["title"], fastpath.norm_text, (outlet, when), large
    )
    for name, task in (("url", url_task), ("outlet, title and date", title_task)):
        at, firsts = task.result()  # (positions among ``at``)
        later = firsts != np.arange(len(at))
        if not later.any():
            continue
        idx = at[later]
        new = ~dup[idx]
        dup[idx[new]] = True
        first_of[idx[new]] = at[firsts[later]][new]
        matched[idx[new]] = name
    d = np.flatnonzero(dup)
    k = first_of[d]
    pairs = pd.DataFrame(
        {
            "kind": "publications",
            "matched_on": matched[d],
            "kept_file": records["source_file"].to_numpy()[k],
            "kept_sheet": records["source_sheet"].to_numpy()[k],
            "kept_row": records["source_row"].to_numpy()[k],
            "dropped_file": records["source_file"].to_numpy()[d],
            "dropped_sheet": records["source_sheet"].to_numpy()[d],
            "dropped_row": records["source_row"].to_numpy()[d],
        }
    )
    return dup, pairs


def _keyed_firsts(
    values: pd.Series,
    norm: Callable[[pa.ChunkedArray], object],
    others: tuple[np.ndarray, ...] = (),
    release: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """The rows whose normalised ``values`` are filled, and for each the position (among
    those rows) of the first one with the same normalised text and the same ``others``
    (integer codes per row of the frame). ``release``: give the memory Arrow freed back
    to the system once the codes are made.

    >>> at, firsts = _keyed_firsts(pd.Series(["A", None, "a", "b"]), fastpath.norm_text)
    >>> at.tolist(), firsts.tolist()
    ([0, 2, 3], [0, 0, 2])
    """
    codes = fastpath.norm_codes(values, norm)
    if release:  # (Arrow's pool keeps it otherwise, and numpy's arrays below come on top)
        pa.default_memory_pool().release_unused()
    at = np.flatnonzero(codes >= 0)
    if not len(at):
        return at, at
    return at, first_rows([codes[at], *(o[at] for o in others)])


def first_rows(parts: list[np.ndarray]) -> np.ndarray:
    """For every row, the position of the first row with the same values in all of
    ``parts`` (integer arrays of one length). The parts are packed into one integer key
    (mixed radix over each part's range; a sparse part, such as nanosecond dates, is
    factorised first) and hashed once, so no multi-column table or group-by is built.

    >>> first_rows([np.array([5, 6, 5, 5]), np.array([1, 1, 1, 2])]).tolist()
    [0, 1, 0, 3]
    """
    n = len(parts[0])
    key, size = np.zeros(n, dtype=np.int64), 1
    for part in parts:
        part = np.asarray(part, dtype=np.int64)
        low, span = int(part.min()), int(part.max()) - int(part.min()) + 1
        if span > 4 * n:  # sparse: number the values instead
            part, uniques = pd.factorize(part)
            low, span = 0, max(len(uniques), 1)
        if size * span >= 1 << 62:  # the packed key would overflow: renumber it first
            key, uniques = pd.factorize(key)
            size = max(len(uniques), 1)
        key = key * span + (part - low)
        size *= span
    codes, _ = pd.factorize(key)  # numbered in order of first appearance
    # a row opens a new key when its code exceeds every code before it
    seen = np.maximum.accumulate(np.concatenate(([-1], codes[:-1])))
    return np.flatnonzero(codes > seen)[codes]


def value_duplicates(
    records: pd.DataFrame, kind: str
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame, pd.DataFrame]:
    """For keyed kinds: masks of later records repeating an earlier key with the same
    value (duplicate) or a different value (conflict), the duplicate pairs, and one
    ``cell`` ledger line per conflict (naming the record it conflicts with).

    >>> r = pd.DataFrame({"district_id": ["semey"] * 3, "year": [2016] * 3, "population": [10.0, 10.0, 12.0],
    ...     "source_file": ["a.csv", "b.csv", "c.csv"], "source_sheet": [""] * 3, "source_row": [2, 2, 2]})
    >>> dup, conflict, pairs, lines = value_duplicates(r, "population")
    >>> dup.tolist(), conflict.tolist(), pairs["dropped_file"].tolist(), lines["reason"].tolist()
    ([False, True, False], [False, False, True], ['b.csv'], ['conflicts with a.csv row 2'])
    """
    n = len(records)
    keys = list(RECORD_KEYS[kind])
    if n == 0:
        none = np.zeros(0, bool)
        return none, none, pd.DataFrame(columns=list(DUPLICATE_COLUMNS)), Ledger().frame()
    pos = np.arange(n)
    first = (
        pd.Series(pos)
        .groupby([records[k].to_numpy() for k in keys], sort=False, dropna=False)
        .transform("min")
        .to_numpy()
    )
    later = first != pos
    same = np.ones(n, dtype=bool)
    for col in VALUE_COLUMNS[kind]:
        a = records[col].to_numpy(dtype=float)
        b = a[first]
        same &= np.isclose(a, b, rtol=SAME_VALUE_RTOL, equal_nan=True)
    dup = later & same
    conflict = later & ~same
    d = np.flatnonzero(dup)
    k = first[d]
    pairs = pd.DataFrame(
        {
            "kind": kind,
            "matched_on": ", ".join(keys),
            "kept_file": records["source_file"].to_numpy()[k],
            "kept_sheet": records["source_sheet"].to_numpy()[k],
            "kept_row": records["source_row"].to_numpy()[k],
            "dropped_file": records["source_file"].to_numpy()[d],
            "dropped_sheet": records["source_sheet"].to_numpy()[d],
            "dropped_row": records["source_row"].to_numpy()[d],
        }
    )
    conflict_with = first[conflict]
    records_first = records.iloc[conflict_with]
    reasons = [
        f"conflicts with {f} [{s}] row {int(r)}" if s else f"conflicts with {f} row {int(r)}"
        for f, s, r in zip(
            records_first["source_file"],
            records_first["source_sheet"],
            records_first["source_row"],
            strict=True,
        )
    ]
    ledger = Ledger()
    for (_, rec), reason in zip(records[conflict].iterrows(), reasons, strict=True):
        ledger.add(
            rec["source_file"],
            rec["source_sheet"],
            int(rec["source_row"]),
            kind,
            _conflict_field(rec, kind),
            ", ".join(display(rec[v]) for v in VALUE_COLUMNS[kind]),
            reason,
            "cell",
        )
    return dup, conflict, pairs, ledger.frame()


def _conflict_field(record: pd.Series, kind: str) -> str:
    """What a conflicting value is for: its key without the district (``amount_kzt 2016-07``)."""
    parts = []
    for k in RECORD_KEYS[kind]:
        if k == "district_id":
            continue
        v = record[k]
        parts.append(v.strftime("%Y-%m") if isinstance(v, pd.Timestamp) else str(v))
    return " ".join(parts)
