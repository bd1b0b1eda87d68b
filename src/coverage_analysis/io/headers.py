"""Header vocabulary and header detection.

The header variants of every kind and field live in ``reference/headers.csv``
(columns ``kind``, ``field``, ``variant``). Matching ignores case, spaces,
line breaks and ``ё``/``е``; a variant also matches a header that continues
with a unit or a note after a separator (``Охват, чел.``, ``Сумма (тыс. тенге)``).

>>> vocab = HeaderVocabulary.load()
>>> vocab.match("publications", "Дата\\nпубликации")
'date'
>>> vocab.match("legalization", "Сумма легализованного имущества, тыс. тенге")
'amount'
>>> vocab.match("social_reach", "Охват пользователей")
'users_reached'
>>> header_key("  Вид  СМИ:\\n")
'вид сми'
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from coverage_analysis.io.readers import MergedRange, RawSheet
from coverage_analysis.reference import reference_path

log = logging.getLogger(__name__)

#: Kinds of input, in order of preference when two fit equally well.
KINDS: tuple[str, ...] = (
    "publications",
    "legalization",
    "media_plan",
    "social_reach",
    "population",
)
#: Pseudo-kind of fields that belong to every kind (the ``№ п/п`` column).
ANY_KIND = "any"
#: Kinds whose tables carry periods (months, quarters, years) in their column headers.
PERIOD_KINDS: frozenset[str] = frozenset({"legalization", "media_plan", "population"})
#: Variants this short are not searched for inside titles and labels (too many false hits).
MIN_SEARCH_LENGTH = 3
#: Separator between the parts of a multi-row header name.
HEADER_JOIN = " | "
#: Rows a header may span (a super-header, the header, a sub-header).
MAX_HEADER_ROWS = 3
#: Characters after which a variant may be followed by a unit or note.
_BOUNDARY = re.compile(r"^[\s,(|/:;\-–—.]")
_SPACES = re.compile(r"\s+")
#: Sub-header fields: they qualify a column rather than name it.
#: Distinct header texts whose period is remembered (:func:`header_period`).
PERIOD_CACHE_SIZE = 65_536
SUB_FIELDS: frozenset[str] = frozenset({"money", "realty", "other", "total", "plan", "fact"})


def header_key(value: object) -> str:
    """A header cell reduced for matching: lower case, single spaces, ``ё`` → ``е``."""
    if value is None:
        return ""
    text = str(value).replace("\u00a0", " ").casefold().replace("ё", "е")
    return _SPACES.sub(" ", text).strip().strip(":*").strip()


@dataclass(frozen=True)
class HeaderVocabulary:
    """Header variants per kind and field, loaded from ``headers.csv``."""

    variants: dict[str, dict[str, tuple[str, ...]]]

    @classmethod
    def load(cls, path: str | Path | None = None) -> HeaderVocabulary:
        """Read the vocabulary (default: the shipped ``reference/headers.csv``)."""
        return _load_vocab(str(path or reference_path("headers.csv")))

    def fields(self, kind: str) -> dict[str, tuple[str, ...]]:
        """Field -> normalised variants of ``kind`` plus the fields every kind shares."""
        merged = dict(self.variants.get(ANY_KIND, {}))
        merged.update(self.variants.get(kind, {}))
        return merged

    def match(self, kind: str, text: object) -> str | None:
        """The field of ``kind`` whose variant matches ``text`` best (longest), or None."""
        return _match(self, kind, header_key(text))

    def search(self, kind: str, text: object, fields: Iterable[str]) -> str | None:
        """The first of ``fields`` with a variant occurring anywhere in ``text`` (titles, labels).

        >>> HeaderVocabulary.load().search("legalization", "Количество заявлений за 2016", ["amount", "applications"])
        'applications'
        """
        key = header_key(text)
        best: tuple[int, str] | None = None
        for f in fields:
            for v in self.fields(kind).get(f, ()):
                hit = len(v) > MIN_SEARCH_LENGTH and re.search(
                    r"(?<!\w)" + re.escape(v) + r"(?!\w)", key
                )
                if hit and (best is None or len(v) > best[0]):
                    best = (len(v), f)
        return best[1] if best else None

    def unused(self, headers: Iterable[object]) -> list[list[str]]:
        """``[kind, field, variant]`` entries that match none of ``headers``
        (to prune or review the vocabulary).

        >>> [kind, fld, v] = HeaderVocabulary({"k": {"f": ("дата", "date")}}).unused(["Дата"])[0]
        >>> (kind, fld, v)
        ('k', 'f', 'date')
        """
        keys = {header_key(h) for h in headers if h is not None}
        out = []
        for kind, fields in self.variants.items():
            for fld, variants in fields.items():
                for v in variants:
                    hit = any(
                        k == v or (k.startswith(v) and _BOUNDARY.match(k[len(v) :])) for k in keys
                    )
                    if not hit:
                        out.append([kind, fld, v])
        return out


@lru_cache(maxsize=4)
def _load_vocab(path: str) -> HeaderVocabulary:
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    out: dict[str, dict[str, list[str]]] = {}
    for kind, fld, variant in table[["kind", "field", "variant"]].itertuples(index=False):
        out.setdefault(kind, {}).setdefault(fld, []).append(header_key(variant))
    frozen = {
        k: {f: tuple(sorted(set(v), key=lambda s: (-len(s), s))) for f, v in d.items()}
        for k, d in out.items()
    }
    return HeaderVocabulary(frozen)


@lru_cache(maxsize=65536)
def _match_cached(vocab_id: int, kind: str, key: str) -> str | None:
    vocab = _VOCABS[vocab_id]
    best: tuple[int, str] | None = None
    for fld, variants in vocab.fields(kind).items():
        for v in variants:
            if key == v or (key.startswith(v) and _BOUNDARY.match(key[len(v) :])):
                if best is None or len(v) > best[0]:
                    best = (len(v), fld)
                break
    return best[1] if best else None


_VOCABS: dict[int, HeaderVocabulary] = {}


def _match(vocab: HeaderVocabulary, kind: str, key: str) -> str | None:
    if not key:
        return None
    _VOCABS[id(vocab)] = vocab
    return _match_cached(id(vocab), kind, key)


# --------------------------------------------------------------------------- periods in headers

#: Years a header cell may name (population tables: ``2014``, ``2015 год``).
MIN_YEAR, MAX_YEAR = 1990, 2100
MONTHS_PER_QUARTER = 3
MONTHS_PER_YEAR = 12
_YEAR_HEADER = re.compile(r"(19|20)\d\d(\s*(г\.?|год|года|жыл|year))?", flags=re.IGNORECASE)


@dataclass(frozen=True)
class PeriodHeader:
    """A header part naming a period: a month (``kind='month'``), a quarter or a year."""

    kind: str
    start: pd.Timestamp
    months: tuple[pd.Timestamp, ...]


def header_period(value: object) -> PeriodHeader | None:
    """The month, quarter or year a header cell names, or None.

    >>> header_period("янв.16").start.strftime("%Y-%m"), header_period("I кв. 2016").kind
    ('2016-01', 'quarter')
    >>> header_period("Район") is None
    True
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime | dt.date):
        m = pd.Timestamp(value).to_period("M").to_timestamp()
        return PeriodHeader("month", m, (m,))
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value).is_integer() and MIN_YEAR <= int(value) <= MAX_YEAR:
            return _year_period(int(value))
        return None
    return _text_period(str(value).strip())


@functools.lru_cache(maxsize=PERIOD_CACHE_SIZE)
def _text_period(text: str) -> PeriodHeader | None:
    """:func:`header_period` of a text cell, remembered: header detection asks about the
    same cells once per input kind (the result is immutable)."""
    from coverage_analysis.clean import parsers

    if _YEAR_HEADER.fullmatch(text):
        return _year_period(int(text[:4]))
    q = parsers.parse_quarter(text)
    if q.error is None and q.value is not None:
        year, quarter = q.value
        start = pd.Timestamp(
            year=int(year), month=MONTHS_PER_QUARTER * (int(quarter) - 1) + 1, day=1
        )
        months = tuple(pd.date_range(start, periods=MONTHS_PER_QUARTER, freq="MS"))
        return PeriodHeader("quarter", start, months)
    m = parsers.parse_month(text)
    if m.error is None and m.value is not None:
        start = _as_month(m.value)
        if start is not None:
            return PeriodHeader("month", start, (start,))
    return None


def _year_period(year: int) -> PeriodHeader:
    months = tuple(pd.date_range(f"{year}-01-01", periods=MONTHS_PER_YEAR, freq="MS"))
    return PeriodHeader("year", months[0], months)


def _as_month(value: object) -> pd.Timestamp | None:
    """A month start from what a parser returned (date, Timestamp, Period, tuple of them)."""
    if isinstance(value, tuple | list) and value:
        value = value[0]
    if isinstance(value, pd.Period):
        return value.start_time.to_period("M").to_timestamp()
    month = getattr(value, "month", None)
    if isinstance(month, dt.date | pd.Timestamp) and not isinstance(value, dt.date):
        value = month
    try:
        return pd.Timestamp(value).to_period("M").to_timestamp()
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- detection


@dataclass
class Header:
    """Where a sheet's header is and what its columns are called.

    ``rows`` are 0-based indices into the sheet's top rows; ``names`` the
    combined column names (parts of a multi-row header joined by ``" | "``);
    ``title`` the non-empty text of the lines above the header.
    """

    rows: list[int]
    names: list[str]
    parts: list[list[object]]
    title: str
    kind_scores: dict[str, int] = field(default_factory=dict)

    @property
    def data_start(self) -> int:
        """Number of top rows that are title or header (data begins below)."""
        return self.rows[-1] + 1


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    return str(value).strip()


def row_fields(vocab: HeaderVocabulary, kind: str, row: list[object]) -> tuple[set[str], int]:
    """Fields of ``kind`` named in a row, and how many of its cells name a period."""
    found: set[str] = set()
    periods = 0
    for cell in row:
        is_date = isinstance(cell, dt.date | dt.datetime)
        fld = None if is_date else _match(vocab, kind, header_key(cell))
        if fld is not None:
            found.add(fld)
        elif cell is not None and cell != "" and header_period(cell) is not None:
            periods += 1
    return found, periods


def _row_score(vocab: HeaderVocabulary, row: list[object]) -> tuple[int, str]:
    best = (0, "")
    for kind in KINDS:
        found, periods = row_fields(vocab, kind, row)
        score = len(found - {"rownum"}) + (1 if periods and kind in PERIOD_KINDS else 0)
        if score > best[0]:
            best = (score, kind)
    return best


def _is_header_like(
    vocab: HeaderVocabulary, kind: str, row: list[object], key_col: int | None
) -> bool:
    """A row that continues a header: no value under the key column, every filled cell a known label."""
    from coverage_analysis.clean import parsers

    cells = [(i, c) for i, c in enumerate(row) if _cell_text(c)]
    if not cells or parsers.is_summary_or_footer(cells[0][1]):
        return False
    if key_col is not None and any(i == key_col for i, _ in cells):
        # the same label repeated by a vertical merge is still header-like
        pass
    for _i, c in cells:
        if isinstance(c, dt.date | dt.datetime):
            continue
        if isinstance(c, int | float):
            return False
        key = header_key(c)
        if all(_match(vocab, k, key) is None for k in KINDS) and header_period(c) is None:
            return False
    return True


#: Minimum score (distinct fields named) of a header row.
MIN_HEADER_SCORE = 2


def detect_header(sheet: RawSheet, vocab: HeaderVocabulary) -> Header | None:
    """Find the header rows of ``sheet`` among its top rows, or None.

    The header row is the row naming the most distinct fields of one kind;
    a row directly above or below it continues the header when every filled
    cell in it is a known label or a period (a super-header over month
    columns, a ``деньги | недвижимость`` or ``план | факт`` sub-header).
    """
    top = sheet.top
    scored = [_row_score(vocab, r) for r in top]
    if not scored:
        return None
    best_i = max(range(len(scored)), key=lambda i: (scored[i][0], -i))
    best_score, kind = scored[best_i]
    if best_score < MIN_HEADER_SCORE:
        return None
    key_col = next(
        (i for i, c in enumerate(top[best_i]) if _match(vocab, kind, header_key(c)) == "district"),
        None,
    )
    rows = [best_i]
    filled = _fill_merged(top, sheet.merged)
    first_col = next((i for i, c in enumerate(top[best_i]) if _cell_text(c)), 0)
    while (
        len(rows) < MAX_HEADER_ROWS
        and rows[0] > 0
        and _starts_after(top[rows[0] - 1], first_col)
        and _continues(vocab, kind, top[rows[0] - 1], key_col, best_i)
    ):
        rows.insert(0, rows[0] - 1)
    while (
        len(rows) < MAX_HEADER_ROWS
        and rows[-1] + 1 < len(top)
        and _continues(vocab, kind, top[rows[-1] + 1], key_col, best_i)
    ):
        rows.append(rows[-1] + 1)
    width = max(len(top[r]) for r in rows)
    block = [(filled[r] + [""] * width)[:width] for r in rows]
    if not sheet.merged:
        block = _ffill_upper(block)
    names, parts = [], []
    for c in range(width):
        col_parts: list[object] = []
        for r in range(len(block)):
            v = block[r][c]
            if _cell_text(v) and all(_cell_text(v) != _cell_text(p) for p in col_parts):
                col_parts.append(v)
        parts.append(col_parts)
        names.append(HEADER_JOIN.join(_cell_text(p) for p in col_parts))
    title_lines = [" ".join(_cell_text(c) for c in top[r] if _cell_text(c)) for r in range(rows[0])]
    title = "\n".join(t for t in title_lines if t)
    return Header(rows, names, parts, title)


def _starts_after(row: list[object], first_col: int) -> bool:
    """A row above the header continues it unless it is a title line: one lone
    text at the left edge of the table (a super-header labels columns further right)."""
    filled = [i for i, c in enumerate(row) if _cell_text(c)]
    return bool(filled) and (len(filled) > 1 or filled[0] > first_col)


def _continues(
    vocab: HeaderVocabulary, kind: str, row: list[object], key_col: int | None, best_i: int
) -> bool:
    # a vertically merged key label repeats; anything else under the key column is data
    if (
        key_col is not None
        and key_col < len(row)
        and _cell_text(row[key_col])
        and _match(vocab, kind, header_key(row[key_col])) != "district"
    ):
        return False
    return _is_header_like(vocab, kind, row, key_col)


def _fill_merged(top: list[list[object]], merged: list[MergedRange]) -> list[list[object]]:
    """Top rows with every merged range's value copied across its span."""
    grid = [list(r) for r in top]
    for r0, c0, r1, c1 in merged:
        if r0 >= len(grid):
            continue
        value = grid[r0][c0] if c0 < len(grid[r0]) else ""
        for r in range(r0, min(r1, len(grid) - 1) + 1):
            row = grid[r]
            if len(row) <= c1:
                row.extend([""] * (c1 + 1 - len(row)))
            for c in range(c0, c1 + 1):
                row[c] = value
    return grid


def _ffill_upper(block: list[list[object]]) -> list[list[object]]:
    """Without merge information, an upper header label spans the empty cells to its right
    that have a label below them (the CSV form of a merged super-header)."""
    if len(block) < 2:
        return block
    out = [list(r) for r in block]
    for r in range(len(out) - 1):
        carry: object = ""
        for c in range(len(out[r])):
            below = any(_cell_text(out[k][c]) for k in range(r + 1, len(out)))
            if _cell_text(out[r][c]):
                carry = out[r][c]
            elif below and _cell_text(carry):
                out[r][c] = carry
            else:
                carry = ""
    return out


def headers_found(sheet: RawSheet, limit: int = 12) -> str:
    """A short text of the labels found at the top of a sheet (for messages)."""
    seen: list[str] = []
    for row in sheet.top[:10]:
        for c in row:
            t = _cell_text(c)
            if t and t not in seen:
                seen.append(t)
    shown = ", ".join(repr(s[:40]) for s in seen[:limit])
    return shown + (", ..." if len(seen) > limit else "") if seen else "no text at all"


Matcher = Callable[[str, object], str | None]
