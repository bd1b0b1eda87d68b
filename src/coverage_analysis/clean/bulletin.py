"""Official statistics bulletins of the Bureau of National Statistics.

Why: analysts take population (and other per-district figures) from the Bureau's
bulletins, which are not tables: a cover, a legend and a contents sheet, then data
sheets with a bilingual title holding the reference date in words, a unit row, two or
three stacked merged header rows over a first column with no header, and a nested list
of rows (republic, region headings, city administrations, cities, settlements,
districts), with legend codes (``-``, ``x``, ``...``, ``0,0``) in the cells
(``../shared/spec/official-statistics.md``). The region-level series
(``population_by_region_2000-2022.xlsx``, years as columns) has the same family traits.

Frame in, frame out: :func:`read_bulletin` takes one sheet and returns a
:class:`BulletinResult` with the records frame, the ledger-lines frame and the outcome
of every row below the header; nothing else is changed. Every row is exactly one of
clean (a unit of the region of study with its figure), summary (republic and region
totals of the region of study, sub-headings, breakdown subtotals, footnotes), out of
scope (other regions' rows; cities proper and settlements inside a unit already
counted), blank, or rejected (a unit of the region of study that cannot be read).
Later units (2024) are mapped back to the campaign's districts with the boundary
lineage; later units that make up one campaign district are summed and the record
lists every row summed.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from coverage_analysis.clean.common import (
    BLANK,
    CLEAN,
    LEDGER_COLUMNS,
    OUT_OF_SCOPE,
    REJECTED,
    SUMMARY,
    display,
)
from coverage_analysis.clean.population import RECORD_COLUMNS
from coverage_analysis.io.readers import RawSheet
from coverage_analysis.reference import (
    district_by_kato,
    load_districts,
    load_lineage,
    reference_path,
)
from coverage_analysis.reference.regions import RegionNames, unit_kind

#: Input kind of the figures a bulletin gives (the population table).
KIND = "population"
#: Titles of a legend sheet.
LEGEND_WORDS: tuple[str, ...] = ("шартты белгілер", "условные обозначения")
#: Titles of a contents sheet.
CONTENTS_WORDS: tuple[str, ...] = ("мазмұны", "содержание")
#: A contents line: a title, dotted leaders, a page number.
DOTTED_LEADER = re.compile(r"(?:\.{4,}|…{2,})\s*\d*\s*$")
#: Reference date in a title, Russian (``на 1 января 2023 года``).
DATE_RU = re.compile(r"на\s+(\d{1,2})\s+([^\W\d_]+)\s+(\d{4})")
#: Dative endings of a Kazakh month name in a title (``1 қаңтарға`` = "as of 1 January").
KK_DATIVE_SUFFIXES: tuple[str, ...] = ("ға", "ге", "қа", "ке", "на", "не", "а", "е")
#: Reference date in a title, Kazakh (``2023 жылғы 1 қаңтарға``).
DATE_KK = re.compile(r"(\d{4})\s*жылғы\s+(\d{1,2})\s+([^\W\d_]+)")
#: Header labels of the total-population column (normalised, as substrings).
TOTAL_LABELS: tuple[str, ...] = ("барлық халық", "все население", "численность населения")
#: Header labels of a KATO code column.
KATO_LABELS: tuple[str, ...] = ("като", "kato")
#: Labels of the republic's total line.
REPUBLIC_WORDS: tuple[str, ...] = ("республика казахстан", "қазақстан республикасы")
#: Words of a breakdown (men, women, urban, rural): its figures are subtotals.
BREAKDOWN_WORDS: tuple[str, ...] = (
    "мужчин",
    "женщин",
    "городск",
    "сельск",
    "ерлер",
    "әйелдер",
    "қала халқы",
    "ауыл халқы",
)
#: A footnote line below the data (``1) Данные за ...``).
FOOTNOTE = re.compile(r"^\s*(?:\d{1,2}\)|\*)")
#: Years a year column may name.
MIN_YEAR, MAX_YEAR = 1990, 2100
#: Rows scanned for the header of a data sheet.
SCAN_ROWS = 40
#: Rows looked at to tell a cover, legend or contents sheet.
ROLE_ROWS = 20
#: Text cells beyond which a sheet is a table, not a cover, legend or contents sheet.
ROLE_MAX_TEXTS = 60
#: Region headings needed in the first column to take a sheet for a bulletin.
MIN_REGION_ROWS = 2
#: Reason of a city proper or a settlement row.
PART_REASON = "part of a unit already counted"
#: Reason of another region's row.
OTHER_REGION_REASON = "another region"


@dataclass
class BulletinResult:
    """One bulletin sheet, read: what it is, its rows' outcomes, records and ledger lines."""

    role: str  # "data", "cover", "legend" or "contents"
    message: str = ""
    header_row: int | None = None
    rows: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))
    outcome: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    records: pd.DataFrame = field(default_factory=pd.DataFrame)
    ledger: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(LEDGER_COLUMNS)))
    out_of_scope_by_region: dict[str, int] = field(default_factory=dict)
    reference_date: str | None = None
    title: str = ""


@lru_cache(maxsize=1)
def legend_codes() -> dict[str, tuple[str, str]]:
    """``{code: (value, meaning)}`` of ``legend_codes.csv``: value ``none`` (no such
    phenomenon), ``unknown`` (confidential, no data) or ``negligible``.

    >>> legend_codes()["x"]
    ('unknown', 'данные конфиденциальны')
    """
    with open(reference_path("legend_codes.csv"), encoding="utf-8-sig", newline="") as handle:
        return {r["code"]: (r["value"], r["meaning_ru"]) for r in csv.DictReader(handle)}


def _text(value: object) -> str:
    return display(value) if value is not None else ""


def _norm(value: object) -> str:
    from coverage_analysis.clean.vocab import normalize_text

    return normalize_text(_text(value))


def reference_date(title: str) -> pd.Timestamp | None:
    """The reference date a bulletin's title states in words.

    >>> reference_date("… халық саны \\nЧисленность населения … на 1 января 2023 года")
    Timestamp('2023-01-01 00:00:00')
    >>> reference_date("2016 жылғы 1 қаңтарға халық саны")
    Timestamp('2016-01-01 00:00:00')
    """
    from coverage_analysis.clean.parsers import _month_number

    text = _norm(title)
    for pattern, order in ((DATE_RU, (0, 1, 2)), (DATE_KK, (1, 2, 0))):
        m = pattern.search(text)
        if m is None:
            continue
        day, month_word, year = (m.group(i + 1) for i in order)
        month = _month_number(month_word)
        if month is None:  # Kazakh titles put the month in the dative (қаңтарға)
            stems = [month_word[: -len(s)] for s in KK_DATIVE_SUFFIXES if month_word.endswith(s)]
            month = next((m for m in map(_month_number, stems) if m is not None), None)
        if month is None:
            continue
        try:
            return pd.Timestamp(int(year), month, int(day))
        except ValueError:
            continue
    return None


def _year_of(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and float(value).is_integer():
        year = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*\d{4}(?:\.0)?\s*", value):
        year = int(float(value))
    else:
        return None
    return year if MIN_YEAR <= year <= MAX_YEAR else None


def sheet_role(sheet: RawSheet, regions: RegionNames) -> str | None:
    """``data``, ``legend``, ``contents``, ``cover`` for the sheets of a bulletin; None
    for a sheet of another layout."""
    if _header_index(sheet, regions) is not None:
        return "data"
    cells = [c for row in sheet.top[:ROLE_ROWS] for c in row if isinstance(c, str) and c.strip()]
    if len(cells) > ROLE_MAX_TEXTS:  # a table, not a cover, legend or contents sheet
        return None
    texts = [_norm(c) for c in cells]
    if any(any(w in t for w in LEGEND_WORDS) for t in texts[:5]):
        return "legend"
    if any(any(w in t for w in CONTENTS_WORDS) for t in texts[:5]) or (
        sum(bool(DOTTED_LEADER.search(t)) for t in texts) >= 3
    ):
        return "contents"
    numbers = sum(
        isinstance(c, int | float) and not isinstance(c, bool)
        for row in sheet.top[:ROLE_ROWS]
        for c in row
        if c is not None and c == c
    )
    if texts and numbers == 0 and any("статистик" in t or "бюро" in t for t in texts):
        return "cover"
    return None


def _header_index(sheet: RawSheet, regions: RegionNames) -> int | None:
    """0-based index of the first header row: the first row with an empty first cell and
    at least two labels, above a first column naming regions (or the republic)."""
    top = sheet.top[:SCAN_ROWS]
    firsts = [r[0].strip() if r and isinstance(r[0], str) else "" for r in top]
    hit = [bool(t) and (regions.match(t) is not None or _is_republic(t)) for t in firsts]
    if sum(hit) < MIN_REGION_ROWS:  # most sheets: no region named in the first column
        return None
    for i, row in enumerate(top):
        if not row or _text(row[0]) or sum(bool(_text(c)) for c in row[1:]) < 2:
            continue
        if sum(hit[i + 1 :]) >= MIN_REGION_ROWS:
            return i
    return None


@lru_cache(maxsize=4096)
def _is_republic(text: str) -> bool:
    t = _norm(text)
    return any(w in t for w in REPUBLIC_WORDS)


@dataclass
class _Columns:
    figures: dict[int, int | None]  # column -> year (None: the title's year)
    kato: int | None
    unused: list[tuple[int, str]]


def _columns(labels: list[str], years: list[int | None]) -> _Columns:
    figures: dict[int, int | None] = {}
    kato = None
    unused = []
    for j, (label, year) in enumerate(zip(labels, years, strict=True)):
        if j == 0:
            continue
        t = _norm(label)
        if year is not None:
            figures[j] = year
        elif any(w in t for w in KATO_LABELS):
            kato = j
        elif any(w in t for w in TOTAL_LABELS) and not figures:
            figures[j] = None
        elif t:
            unused.append((j, label.replace("\n", " / ")))
    return _Columns(figures, kato, unused)


class _Mapper:
    """Unit names and KATO codes of the region of study -> campaign district ids."""

    def __init__(
        self, resolver: object, region_resolver: Callable[[str], object] | None = None
    ) -> None:
        from coverage_analysis.reference.districts import DistrictResolver

        self.resolver = resolver
        #: National scope: the resolver of the region a heading names (by its KATO
        #: prefix; None for a region it does not know), so that a unit name repeated in
        #: several regions (``Абай ауданы``) resolves within its heading's region.
        self.region_resolver = region_resolver
        self.lineage = load_lineage()
        self.by_kato = district_by_kato()
        ref = load_districts()
        self.study = {str(int(k))[:2] for k in ref["kato"].dropna()} | set(
            self.lineage["later_region_kato"]
        )
        later = self.lineage.drop_duplicates("later_kato")
        self.later = DistrictResolver(
            pd.DataFrame(
                {
                    "district_id": later["later_kato"],
                    "name_ru": later["later_name_ru"],
                    "name_kk": later["later_name_kk"],
                    "name_en": later["later_name_en"],
                }
            )
        )
        self.region_of = dict(zip(later["later_kato"], later["later_region_kato"], strict=True))

    def lineage_of(self, later_kato: str) -> tuple[list[str], str | None]:
        """Campaign districts of a later unit and, when it straddles, the reason."""
        lines = self.lineage[self.lineage["later_kato"] == later_kato]
        ids = sorted(set(lines["campaign_district_id"]))
        if (lines["status"] == "straddles").any():
            shares = ", ".join(
                f"{d} {s:.0%}"
                for d, s in zip(lines["campaign_district_id"], lines["overlap_share"], strict=True)
            )
            return ids, f"straddles campaign districts ({shares}): not split"
        return ids, None

    def resolve(self, name: str, kato: str | None, region: str | None) -> tuple[str | None, str]:
        """``(district_id, '')`` or ``(None, reason)``."""
        if kato:
            if kato in self.by_kato:
                return self.by_kato[kato], ""
            if kato in self.region_of:
                ids, straddle = self.lineage_of(kato)
                return (None, straddle) if straddle else (ids[0], "")
        later = self.later.resolve(name)
        if later.value and (region is None or self.region_of.get(later.value) == region):
            ids, straddle = self.lineage_of(later.value)
            if straddle:
                return None, straddle
            return ids[0], ""
        within = self.region_resolver(region) if region and self.region_resolver else None
        direct = (within or self.resolver).resolve(name)
        if direct.value and direct.value != "region":
            return direct.value, ""
        return None, direct.error or f"no campaign district matches {name!r}"


def read_bulletin(
    sheet: RawSheet,
    resolver: object,
    regions: RegionNames | None = None,
    region_resolver: Callable[[str], object] | None = None,
) -> BulletinResult | None:
    """The sheet read as a bulletin sheet, or None when it is not one. ``region_resolver``
    (national scope): a region's KATO prefix -> the resolver of that region's units."""
    from coverage_analysis.clean import parsers
    from coverage_analysis.io.headers import _fill_merged

    regions = regions or RegionNames()
    role = sheet_role(sheet, regions)
    if role is None:
        return None
    if role != "data":
        return BulletinResult(role, f"{role} sheet of a statistics bulletin (no table)")
    start = _header_index(sheet, regions)
    filled = _fill_merged(sheet.top, sheet.merged)
    end = start
    while end + 1 < len(filled) and not _text(filled[end + 1][0] if filled[end + 1] else None):
        if not any(_text(c) for c in filled[end + 1]):
            break
        end += 1
    title_rows = [r for r in filled[:start] if any(_text(c) for c in r)]
    title = " ".join(_text(c) for r in title_rows for c in r if _text(c))
    header = filled[start : end + 1]
    width = max(len(r) for r in header)
    labels, years = [], []
    for j in range(width):
        parts: list[str] = []
        for r in header:
            t = _text(r[j]) if j < len(r) else ""
            if t and t not in parts:
                parts.append(t)
        labels.append("\n".join(parts))
        years.append(next((y for r in header if j < len(r) and (y := _year_of(r[j]))), None))
    cols = _columns(labels, years)
    date = reference_date(title)
    title_year = date.year if date is not None else None
    if title_year is None:
        p = parsers.parse_period(title)
        title_year = p.value[0].year if p.error is None and p.value else None

    frame, rows = sheet.data(end + 1, width)
    ledger: list[dict[str, object]] = []

    def line(row: object, field_name: str, value: object, reason: str, scope: str) -> None:
        ledger.append(
            {
                "source_file": sheet.file,
                "source_sheet": sheet.sheet,
                "source_row": row,
                "kind": KIND,
                "field": field_name,
                "value": _text(value),
                "reason": reason,
                "scope": scope,
            }
        )

    for _j, label in cols.unused:
        line(
            end + 1,
            label,
            label,
            "breakdown column not used (the package keeps the total)",
            "column",
        )
    if not cols.figures:
        message = "statistics bulletin sheet without a total or year column"
        line(None, "", "", message, "sheet")
    elif None in cols.figures.values() and title_year is None:
        line(
            end + 1,
            labels[next(iter(cols.figures))],
            title,
            "no reference date in the title",
            "column",
        )
        cols.figures = {}

    mapper = _Mapper(resolver, region_resolver)
    n = len(frame)
    outcome = np.full(n, BLANK, dtype=object)
    by_region: dict[str, int] = {}
    region: str | None = None
    breakdown = any(w in _norm(title) for w in BREAKDOWN_WORDS)
    units: list[tuple[int, str, dict[int, object]]] = []  # (position, district, figures)
    grid = frame.to_numpy(dtype=object)
    for i in range(n):
        cells = grid[i]
        name = _text(cells[0]) if len(cells) else ""
        values = {j: cells[j] for j in cols.figures if j < len(cells) and _text(cells[j])}
        filled_any = any(_text(c) for c in cells)
        if not filled_any:
            continue
        row_no = int(rows[i])
        if not name:
            outcome[i] = REJECTED
            line(row_no, "unit", "", "figures with no unit name", "row")
            continue
        if FOOTNOTE.match(name) or parsers.is_footer_label(name) or _is_republic(name):
            outcome[i] = SUMMARY
            continue
        code = regions.match(name)
        if code is not None:
            region = code
            if code in mapper.study:
                outcome[i] = SUMMARY
            else:
                outcome[i] = OUT_OF_SCOPE
                label = regions.label(code)
                by_region[label] = by_region.get(label, 0) + 1
            continue
        kind = unit_kind(name)
        if kind is None and not any(_text(cells[j]) for j in range(1, len(cells))):
            outcome[i] = SUMMARY  # a sub-heading (``Мужчины``, ``в том числе:``)
            if any(w in _norm(name) for w in BREAKDOWN_WORDS):
                breakdown = True
            continue
        if region is not None and region not in mapper.study:
            outcome[i] = OUT_OF_SCOPE
            label = regions.label(region)
            by_region[label] = by_region.get(label, 0) + 1
            continue
        if kind == "part":
            outcome[i] = OUT_OF_SCOPE
            label = regions.label(region) if region else "region of study"
            by_region[label] = by_region.get(label, 0) + 1
            continue
        if breakdown:
            outcome[i] = SUMMARY
            continue
        if not cols.figures:
            outcome[i] = REJECTED
            line(row_no, "population", name, "no figure column in the sheet", "row")
            continue
        kato = None
        if cols.kato is not None:
            k = re.sub(r"\D", "", _text(cells[cols.kato]))
            kato = k if len(k) == 9 else None
        district, reason = mapper.resolve(name, kato, region)
        if district is None:
            outcome[i] = REJECTED
            line(row_no, "district", name, reason, "row")
            continue
        outcome[i] = CLEAN
        units.append((i, district, values))

    records = _records(units, cols, title_year, rows, outcome, line, sheet)
    ledger_frame = pd.DataFrame(ledger, columns=list(LEDGER_COLUMNS))
    if len(ledger_frame):
        ledger_frame["source_row"] = pd.array(ledger_frame["source_row"], dtype="Int64")
    return BulletinResult(
        "data",
        "",
        end + 1,
        rows,
        outcome,
        records,
        ledger_frame,
        dict(sorted(by_region.items())),
        None if date is None else f"{date:%Y-%m-%d}",
        title,
    )


def _records(
    units: list[tuple[int, str, dict[int, object]]],
    cols: _Columns,
    title_year: int | None,
    rows: np.ndarray,
    outcome: np.ndarray,
    line: object,
    sheet: RawSheet,
) -> pd.DataFrame:
    """Population records: the units' figures, summed per campaign district and year
    (a legend code or a bad cell in any summed part makes the whole sum unknown: every
    part is rejected, never a partial sum)."""
    from coverage_analysis.clean import parsers

    codes = legend_codes()
    parts: dict[tuple[str, int], list[tuple[int, object]]] = {}
    for i, district, values in units:
        for j, year in cols.figures.items():
            y = year if year is not None else title_year
            if y is None:
                continue
            parts.setdefault((district, y), []).append((i, values.get(j)))
    out = []
    bad_rows: set[int] = set()
    for (district, year), items in parts.items():
        total = 0
        problem = None
        for i, raw in items:
            text = _text(raw)
            if text in codes:
                value, meaning = codes[text]
                problem = (i, raw, f"legend code {text!r} ({meaning}): {value}, no figure")
                break
            p = parsers.parse_count(raw)
            if p.error is not None or p.value is None:
                problem = (i, raw, p.error or "missing population")
                break
            total += int(p.value)
        if problem is not None:
            i, raw, reason = problem
            for k, _ in items:
                if k not in bad_rows:
                    bad_rows.add(k)
                    why = reason if k == i else f"summed with row {int(rows[i])}: {reason}"
                    line(int(rows[k]), f"population {year}", raw if k == i else "", why, "row")
            continue
        positions = [i for i, _ in items]
        out.append(
            {
                "district_id": district,
                "year": year,
                "population": total,
                "source_file": sheet.file,
                "source_sheet": sheet.sheet,
                "source_row": int(rows[positions[0]]),
                "rows": tuple(int(rows[i]) for i in positions),
            }
        )
    for k in bad_rows:
        outcome[k] = REJECTED
    return pd.DataFrame(out, columns=list(RECORD_COLUMNS))
