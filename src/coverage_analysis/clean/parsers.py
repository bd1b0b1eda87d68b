"""Field parsers: one raw cell in, a :class:`Parsed` (value, error) out.

Every parser accepts *any* object (str, int, float, datetime, date,
``pd.Timestamp``, ``None``, NaN, ...) and never raises: a value it cannot
interpret comes back as ``Parsed(None, "<reason naming the value>")``, an empty
cell as ``Parsed(None, None)``. The string path of each parser is memoised, so
mapping a long column through ``Series.map`` costs one parse per unique value.

Vocabularies (channels, languages, formats, platforms, month names, units)
are CSV files in ``coverage_analysis/reference``; :func:`vocabulary` returns
the shipped ones (with their record of unused entries).

>>> parse_date("15 марта 2016").value.date
Timestamp('2016-03-15 00:00:00')
>>> parse_count("1,5 тыс.")
Parsed(value=1500, error=None)
>>> parse_channel("Статья в газете").value
'print'
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import logging
import math
import numbers
import re
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from typing import Any, NamedTuple

import pandas as pd

from coverage_analysis.clean.vocab import (
    CACHE_SIZE,
    Parsed,
    Vocabulary,
    fold_words,
    is_missing,
    normalize_text,
)
from coverage_analysis.domain import CHANNELS, FORMATS, LANGUAGES
from coverage_analysis.reference import reference_path

__all__ = [
    "DateValue",
    "Parsed",
    "is_footer_label",
    "is_summary_label",
    "normalize_text",
    "parse_channel",
    "parse_count",
    "parse_date",
    "parse_format",
    "parse_language",
    "parse_month",
    "parse_number",
    "parse_period",
    "parse_platform",
    "parse_quarter",
    "unit_multiplier",
    "vocabulary",
]

_LOG = logging.getLogger(__name__)

#: Years a date may carry at all (the cleaner narrows to the campaign).
MIN_YEAR, MAX_YEAR = 2000, 2030
#: Day zero of Excel's 1900 date system (serial 1 = 1900-01-01 with the leap-year bug).
EXCEL_EPOCH = dt.date(1899, 12, 30)
#: Excel serial numbers are accepted as dates only within these years.
SERIAL_MIN_DATE, SERIAL_MAX_DATE = dt.date(2010, 1, 1), dt.date(2020, 12, 31)
SERIAL_MIN = (SERIAL_MIN_DATE - EXCEL_EPOCH).days
SERIAL_MAX = (SERIAL_MAX_DATE - EXCEL_EPOCH).days
#: Two-digit years (``15.03.16``, ``янв.16``) are in this century.
CENTURY = 2000
MONTHS_PER_QUARTER = 3
MONTHS_PER_YEAR = 12
#: Roman and Arabic quarter numerals.
QUARTER_NUMERALS: dict[str, int] = {
    "i": 1,
    "ii": 2,
    "iii": 3,
    "iv": 4,
    "1": 1,
    "2": 2,
    "3": 3,
    "4": 4,
}
#: Half-year numerals (``1 полугодие``, ``II полугодие``, ``первое полугодие``).
HALF_NUMERALS: dict[str, int] = {"i": 1, "ii": 2, "1": 1, "2": 2, "первое": 1, "второе": 2}
#: Cells that mean "no value" in a numeric column.
DASHES = frozenset(
    {"-", "—", "–", "‒", "−", "--", "---", "х", "x", "н/д", "нет данных", "n/a", "na"}
)
#: Relative tolerance within which a float counts as a whole number.
INTEGER_TOLERANCE = 1e-9
#: First words of a total line (checked on folded words, see ``fold_words``).
SUMMARY_WORDS = frozenset(
    {"итого", "итог", "всего", "барлыгы", "жиыны", "жиынтыгы", "total", "totals", "subtotal"}
)
#: First words (or word pairs) of a signature block below the data.
FOOTER_PHRASES: tuple[tuple[str, ...], ...] = tuple(
    tuple(p.split())
    for p in (
        "исп",
        "исполн",
        "исполнитель",
        "исполнила",
        "исполнил",
        "тел",
        "телефон",
        "руководитель",
        "аким",
        "м п",
        "мп",
        "подпись",
        "начальник",
        "заместитель",
        "зам",
        "орындаган",
        "орынд",
        "директор",
        "главный специалист",
        "ведущий специалист",
        "гл специалист",
        "согласовано",
        "утверждаю",
    )
)


class DateValue(NamedTuple):
    """A parsed date: ``date`` (``None`` when only the month is known) and
    ``month`` (first day of the month).

    >>> parse_date("03.2016").value
    DateValue(date=None, month=Timestamp('2016-03-01 00:00:00'))
    """

    date: pd.Timestamp | None
    month: pd.Timestamp


# ----------------------------------------------------------------- vocabularies
_VOCAB_FILES: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "channel": ("channels.csv", CHANNELS),
    "language": ("languages.csv", LANGUAGES),
    "format": ("formats.csv", FORMATS),
    "platform": ("platforms.csv", None),
}


@cache
def vocabulary(name: str) -> Vocabulary:
    """The shipped vocabulary ``channel``, ``language``, ``format`` or ``platform``.

    >>> "social" in vocabulary("channel").canonicals
    True
    """
    file, allowed = _VOCAB_FILES[name]
    return Vocabulary.from_csv(reference_path(file), name=name, allowed=allowed)


@lru_cache(maxsize=1)
def _month_names() -> dict[str, int]:
    with open(reference_path("month_names.csv"), encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    names: dict[str, int] = {}
    for row in rows:
        for word in fold_words(row["variant"]):
            if names.setdefault(word, int(row["month"])) != int(row["month"]):
                raise ValueError(f"month_names.csv: {word!r} names two months")
    return names


@lru_cache(maxsize=1)
def _units() -> tuple[re.Pattern[str], dict[str, tuple[Decimal, str]]]:
    with open(reference_path("units.csv"), encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    table = {normalize_text(r["variant"]): (Decimal(r["multiplier"]), r["kind"]) for r in rows}
    alternatives = "|".join(re.escape(v) for v in sorted(table, key=len, reverse=True))
    # a unit is a whole word: no letter right before or after it; its dot is part of it
    pattern = re.compile(rf"(?<![^\W\d_])({alternatives})(?![^\W\d_])\.?")
    return pattern, table


# ----------------------------------------------------------------- helpers
def _is_number(raw: object) -> bool:
    return isinstance(raw, numbers.Real) and not isinstance(raw, bool)


def _shown(raw: object) -> str:
    return repr(raw.strip()) if isinstance(raw, str) else repr(raw)


def _guard(kind: str):
    """Decorator: a parser never raises; an unexpected failure becomes an error."""

    def wrap(func):
        def safe(raw: Any) -> Parsed:
            try:
                return func(raw)
            except Exception as exc:  # the contract: never raise
                _LOG.debug("%s parser failed on %r", kind, raw, exc_info=True)
                return Parsed(None, f"cannot read {kind} {_shown(raw)}: {exc}")

        safe.__name__, safe.__doc__, safe.__wrapped__ = func.__name__, func.__doc__, func  # type: ignore[attr-defined]
        safe.__module__ = func.__module__
        return safe

    return wrap


def _year(text: str) -> int:
    year = int(text)
    return year + CENTURY if len(text) <= 2 else year


def _check_year(year: int, shown: str) -> str | None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        return f"year {year} of {shown} is outside {MIN_YEAR}-{MAX_YEAR}"
    return None


def _make_date(year: int, month: int, day: int | None, shown: str) -> Parsed:
    bad_year = _check_year(year, shown)
    if bad_year:
        return Parsed(None, bad_year)
    if not 1 <= month <= MONTHS_PER_YEAR:
        return Parsed(None, f"no month {month} in {shown}")
    first = pd.Timestamp(year=year, month=month, day=1)
    if day is None:
        return Parsed(DateValue(None, first), None)
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return Parsed(
            None, f"impossible date {shown}: {calendar.month_name[month]} {year} has no day {day}"
        )
    return Parsed(DateValue(pd.Timestamp(year=year, month=month, day=day), first), None)


def _from_datetime(raw: dt.date | pd.Timestamp) -> Parsed:
    stamp = pd.Timestamp(raw)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return _make_date(stamp.year, stamp.month, stamp.day, _shown(raw))


def _from_serial(raw: float, kind: str, shown: str | None = None) -> Parsed:
    shown = shown or repr(raw)
    if not math.isfinite(raw):
        return Parsed(None, f"{kind} {shown} is not a number")
    if not SERIAL_MIN <= raw < SERIAL_MAX + 1:
        return Parsed(
            None,
            f"number {shown} is not a {kind}: Excel date serials are accepted only "
            f"between {SERIAL_MIN} ({SERIAL_MIN_DATE}) and {SERIAL_MAX} ({SERIAL_MAX_DATE})",
        )
    day = EXCEL_EPOCH + dt.timedelta(days=math.floor(raw))
    return _make_date(day.year, day.month, day.day, shown)


# ----------------------------------------------------------------- dates and months
_YEAR_SUFFIX = r"(?:\s*(?:года|год|гг|г|жылғы|жылы|жыл|ж)\.?)?"
_TIME = r"(?:[t\s]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_DMY = re.compile(
    rf"(\d{{1,2}})\s*[./\-]\s*(\d{{1,2}})\s*[./\-]\s*(\d{{4}}|\d{{2}}){_YEAR_SUFFIX}{_TIME}"
)
_YMD = re.compile(rf"(\d{{4}})[./\-](\d{{1,2}})[./\-](\d{{1,2}}){_TIME}")
_D_MONTH_Y = re.compile(rf"(\d{{1,2}})\s*-?\s*([^\W\d_]+)\.?,?\s*(\d{{4}}|\d{{2}}){_YEAR_SUFFIX}")
_Y_D_MONTH = re.compile(rf"(\d{{4}}){_YEAR_SUFFIX}\s*(\d{{1,2}})\s*-?\s*([^\W\d_]+)")
_QUOTES = re.compile(r"[«»\"“”„]")
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")
_MY = re.compile(rf"(\d{{1,2}})\s*[./\-]\s*(\d{{4}}){_YEAR_SUFFIX}")
_YM = re.compile(r"(\d{4})\s*[./\-]\s*(\d{1,2})")
_MONTH_Y = re.compile(rf"([^\W\d_]+)\.?\s*[-'’/.,]?\s*(\d{{4}}|\d{{2}}){_YEAR_SUFFIX}")
_Y_MONTH = re.compile(rf"(\d{{4}}){_YEAR_SUFFIX}\s*([^\W\d_]+)")


def _month_number(word: str) -> int | None:
    words = fold_words(word)
    return _month_names().get(words[0]) if len(words) == 1 else None


@_guard("date")
def parse_date(raw: Any) -> Parsed:
    """A date cell → :class:`DateValue`; month-only values give ``date=None``.

    Accepts ``15.03.2016``, ``15.03.16``, ``2016-03-15``, ``15/03/2016``,
    datetime/date/Timestamp objects, Excel serials (2010-2020), ``15 марта 2016``,
    ``15 наурыз 2016 ж.``, and month-only ``март 2016``, ``03.2016``.

    >>> parse_date(42444).value.date
    Timestamp('2016-03-15 00:00:00')
    >>> parse_date("31.02.2016").error
    "impossible date '31.02.2016': February 2016 has no day 31"
    >>> parse_date(None)
    Parsed(value=None, error=None)
    """
    if is_missing(raw):
        return Parsed(None, None)
    if isinstance(raw, str):
        return _parse_date_str(raw)
    if isinstance(raw, dt.date | pd.Timestamp):
        return _from_datetime(raw)
    if type(raw).__name__ == "datetime64":
        return _from_datetime(pd.Timestamp(raw))
    if _is_number(raw):
        return _from_serial(float(raw), "date", repr(raw))
    return _parse_date_str(str(raw))


def _date_text(raw: str) -> str:
    """Normalised date text without quotes (``«15» марта``), a leading apostrophe
    (Excel's text prefix) or trailing punctuation."""
    return _QUOTES.sub("", normalize_text(raw)).strip(" '.,;")


@lru_cache(maxsize=CACHE_SIZE)
def _parse_date_str(raw: str) -> Parsed:
    text = _date_text(raw)
    shown = _shown(raw)
    if not text:
        return Parsed(None, None)
    if m := _DMY.fullmatch(text):
        return _make_date(_year(m[3]), int(m[2]), int(m[1]), shown)
    if m := _YMD.fullmatch(text):
        return _make_date(int(m[1]), int(m[2]), int(m[3]), shown)
    if _SERIAL.fullmatch(text):
        return _from_serial(float(text), "date", shown)
    for pattern, (d, mo, y) in ((_D_MONTH_Y, (1, 2, 3)), (_Y_D_MONTH, (2, 3, 1))):
        if (m := pattern.fullmatch(text)) and (month := _month_number(m[mo])):
            return _make_date(_year(m[y]), month, int(m[d]), shown)
    month = _parse_month_str(raw)
    if month.value is not None:
        return Parsed(DateValue(None, month.value), None)
    if month.error and not month.error.startswith("not a month"):
        return Parsed(None, month.error)
    return Parsed(None, f"not a date: {shown}")


@_guard("month")
def parse_month(raw: Any) -> Parsed:
    """A month header or cell → ``pd.Timestamp`` of its first day.

    >>> parse_month("янв.16").value, parse_month("Қаңтар 2016").value
    (Timestamp('2016-01-01 00:00:00'), Timestamp('2016-01-01 00:00:00'))
    >>> parse_month("I кв. 2016").error
    "quarter, not a month: 'I кв. 2016'"
    """
    if is_missing(raw):
        return Parsed(None, None)
    if isinstance(raw, str):
        return _parse_month_str(raw)
    if isinstance(raw, dt.date | pd.Timestamp) or type(raw).__name__ == "datetime64":
        parsed = _from_datetime(pd.Timestamp(raw))
    elif _is_number(raw) and SERIAL_MIN <= float(raw) <= SERIAL_MAX + 1:
        parsed = _from_serial(float(raw), "month")
    else:
        return _parse_month_str(str(raw))
    return Parsed(parsed.value.month, None) if parsed.value else parsed


@lru_cache(maxsize=CACHE_SIZE)
def _parse_month_str(raw: str) -> Parsed:
    text = _date_text(raw)
    shown = _shown(raw)
    if not text:
        return Parsed(None, None)
    if _find_quarter(text) is not None:
        return Parsed(None, f"quarter, not a month: {shown}")
    for pattern, (mo, y) in ((_MY, (1, 2)), (_YM, (2, 1))):
        if m := pattern.fullmatch(text):
            return _month_only(_year(m[y]), int(m[mo]), shown)
    for pattern, (mo, y) in ((_MONTH_Y, (1, 2)), (_Y_MONTH, (2, 1))):
        if (m := pattern.fullmatch(text)) and (month := _month_number(m[mo])):
            return _month_only(_year(m[y]), month, shown)
    if _month_number(text.rstrip(".")):
        return Parsed(None, f"month without a year: {shown}")
    if (m := _DMY.fullmatch(text)) or (m := _YMD.fullmatch(text)):
        parsed = _parse_date_str(raw)
        return Parsed(parsed.value.month, None) if parsed.value else parsed
    if _SERIAL.fullmatch(text):
        parsed = _from_serial(float(text), "month")
        return Parsed(parsed.value.month, None) if parsed.value else parsed
    return Parsed(None, f"not a month: {shown}")


def _month_only(year: int, month: int, shown: str) -> Parsed:
    parsed = _make_date(year, month, None, shown)
    return Parsed(parsed.value.month, None) if parsed.value else parsed


# ----------------------------------------------------------------- quarters and periods
_QUARTER_WORD = r"(?:кв(?:артал[а-я]*)?|тоқсан[а-я]*|токсан[а-я]*|quarter|qtr)"
_Q_NUM = r"(?P<q>iv|iii|ii|i|[1-4])"
_QUARTER_PATTERNS = (
    re.compile(
        rf"(?<![^\W_]){_Q_NUM}\s*-?\s*(?:й|ый|ой|ші|шы|nd|st|rd|th)?\s*{_QUARTER_WORD}\.?\s*"
        rf"(?:(?P<y>\d{{4}})|(?P<y2>\d{{2}})(?!\d))?"
    ),
    re.compile(r"(?<![^\W_])q(?P<q>[1-4])\s*[-/]?\s*(?P<y>\d{4})?"),
    re.compile(
        rf"(?P<y>\d{{4}}){_YEAR_SUFFIX}\s*[-/]?\s*(?:{_Q_NUM}\s*-?\s*(?:й)?\s*{_QUARTER_WORD}|q(?P<q2>[1-4]))(?![^\W_])"
    ),
)


def _find_quarter(text: str) -> tuple[int | None, int, re.Match[str]] | None:
    """(year or None, quarter, match) of the first quarter named in normalised text."""
    text = text.replace("і", "i")  # a Kazakh і typed for the Roman numeral
    without_year = None
    for pattern in _QUARTER_PATTERNS:
        for m in pattern.finditer(text):
            groups = m.groupdict()
            q = QUARTER_NUMERALS[groups.get("q") or groups.get("q2") or ""]
            year_text = groups.get("y") or groups.get("y2")
            if year_text:
                return _year(year_text), q, m
            without_year = without_year or (None, q, m)
    return without_year


@_guard("quarter")
def parse_quarter(raw: Any) -> Parsed:
    """A quarter label → ``(year, quarter)``.

    >>> parse_quarter("IV квартал 2015").value, parse_quarter("1кв2016").value
    ((2015, 4), (2016, 1))
    """
    if is_missing(raw):
        return Parsed(None, None)
    return _parse_quarter_str(raw if isinstance(raw, str) else str(raw))


@lru_cache(maxsize=CACHE_SIZE)
def _parse_quarter_str(raw: str) -> Parsed:
    text = normalize_text(raw)
    if not text:
        return Parsed(None, None)
    found = _find_quarter(text)
    if found is None:
        return Parsed(None, f"not a quarter: {_shown(raw)}")
    year, quarter, _ = found
    if year is None:
        return Parsed(None, f"quarter without a year: {_shown(raw)}")
    bad = _check_year(year, _shown(raw))
    return Parsed(None, bad) if bad else Parsed((year, quarter), None)


def _month_start(year: int, month: int) -> pd.Timestamp:
    return pd.Timestamp(year=year, month=month, day=1)


_DATE_RANGE = re.compile(
    r"(?<![\d.])(\d{1,2}[./]\d{1,2}[./](?:\d{4}|\d{2}))\s*(?:г\.?|года)?\s*"
    r"(?:по|до|-|–|—|to|till|until)\s*(\d{1,2}[./]\d{1,2}[./](?:\d{4}|\d{2}))(?![\d.])"
)
_HALF = re.compile(r"(?<![^\W_])(i|ii|1|2|первое|второе)\s*-?\s*(?:е\s*)?полугоди[а-я]*\s*(\d{4})")
_MONTHS_OF_YEAR = re.compile(r"(?<![^\W_])(\d{1,2})\s*(?:месяц[а-я]*|мес\.?|ай)\s*(\d{4})")
_MONTH_RANGE = re.compile(r"([^\W\d_]+)\.?\s*(?:-|–|—|по|до)\s*([^\W\d_]+)\.?\s*(\d{4})")
_MONTH_YEAR_ANY = re.compile(r"(?<![^\W_])([^\W\d_]+)\.?\s*(\d{4})(?!\d)")
_MM_YYYY_ANY = re.compile(r"(?<![\d.])(\d{1,2})[./](\d{4})(?![\d.])")
_YEAR_RANGE = re.compile(r"(?<![\d.])(20\d{2})\s*[-–—]\s*(20\d{2})(?![\d.])")
_FILE_EXTENSION = re.compile(r"\.(?:xlsx|xlsm|xls|csv|txt)$")
_YEAR_ANY = re.compile(r"(?<![\d./])((?:19|20)\d{2})(?![\d./])")


@_guard("period")
def parse_period(text: Any) -> Parsed:
    """The reporting period named in a title or file name → ``(first_month, last_month)``.
    ``Parsed(None, None)`` when no period is named.

    >>> [m.strftime("%Y-%m") for m in parse_period("Реестр за I квартал 2016 г.").value]
    ['2016-01', '2016-03']
    >>> [m.strftime("%Y-%m") for m in parse_period("с 01.09.2014 по 31.12.2014").value]
    ['2014-09', '2014-12']
    >>> parse_period("Реестр публикаций")
    Parsed(value=None, error=None)
    """
    if is_missing(text):
        return Parsed(None, None)
    return _parse_period_str(text if isinstance(text, str) else str(text))


@lru_cache(maxsize=CACHE_SIZE)
def _parse_period_str(raw: str) -> Parsed:
    text = _FILE_EXTENSION.sub("", normalize_text(raw)).replace("_", " ")
    shown = _shown(raw)
    if not text:
        return Parsed(None, None)
    if m := _DATE_RANGE.search(text):
        first, last = _parse_date_str(m[1]), _parse_date_str(m[2])
        for part in (first, last):
            if part.error:
                return Parsed(None, f"period of {shown}: {part.error}")
        return _period(first.value.month, last.value.month, shown)
    found = _find_quarter(text)
    if found is not None:
        year, quarter, _ = found
        if year is None:
            return Parsed(None, f"period of {shown}: quarter without a year")
        first_month = (quarter - 1) * MONTHS_PER_QUARTER + 1
        return _period_months(year, first_month, year, first_month + MONTHS_PER_QUARTER - 1, shown)
    if m := _HALF.search(text):
        half = HALF_NUMERALS[m[1]]
        start = (half - 1) * MONTHS_PER_YEAR // 2 + 1
        return _period_months(int(m[2]), start, int(m[2]), start + MONTHS_PER_YEAR // 2 - 1, shown)
    if (m := _MONTHS_OF_YEAR.search(text)) and 1 <= int(m[1]) <= MONTHS_PER_YEAR:
        return _period_months(int(m[2]), 1, int(m[2]), int(m[1]), shown)
    for m in _MONTH_RANGE.finditer(text):
        a, b = _month_number(m[1]), _month_number(m[2])
        if a and b:
            return _period_months(int(m[3]), a, int(m[3]), b, shown)
    for m in _MONTH_YEAR_ANY.finditer(text):
        month = _month_number(m[1])
        if month:
            return _period_months(int(m[2]), month, int(m[2]), month, shown)
    if m := _MM_YYYY_ANY.search(text):
        return _period_months(int(m[2]), int(m[1]), int(m[2]), int(m[1]), shown)
    if m := _YEAR_RANGE.search(text):
        return _period_months(int(m[1]), 1, int(m[2]), MONTHS_PER_YEAR, shown)
    if m := _YEAR_ANY.search(text):
        return _period_months(int(m[1]), 1, int(m[1]), MONTHS_PER_YEAR, shown)
    return Parsed(None, None)


def _period_months(y1: int, m1: int, y2: int, m2: int, shown: str) -> Parsed:
    for year, month in ((y1, m1), (y2, m2)):
        bad = _check_year(year, shown)
        if bad:
            return Parsed(None, f"period of {shown}: {bad}")
        if not 1 <= month <= MONTHS_PER_YEAR:
            return Parsed(None, f"period of {shown}: no month {month}")
    return _period(_month_start(y1, m1), _month_start(y2, m2), shown)


def _period(first: pd.Timestamp, last: pd.Timestamp, shown: str) -> Parsed:
    if last < first:
        return Parsed(None, f"period of {shown} ends before it starts")
    return Parsed((first, last), None)


# ----------------------------------------------------------------- numbers
_SPACED_GROUPS = re.compile(r"[+-]?\d{1,3}(?: \d{3})+(?:[.,]\d+)?")
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d+)?e[+-]?\d+")
_PLAIN = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)")


def _decimal_from_text(body: str) -> Decimal | None:
    """Decimal of a numeric body (no units); ``None`` when it is not a number."""
    body = body.strip().replace("−", "-").replace("'", "")
    if " " in body:
        if not _SPACED_GROUPS.fullmatch(body):
            return None
        body = body.replace(" ", "")
    if _SCIENTIFIC.fullmatch(body):
        return Decimal(body.replace(",", "."))
    sign = ""
    if body[:1] in "+-":
        sign, body = body[:1].replace("+", ""), body[1:]
    if not body or not re.fullmatch(r"[\d.,]+", body) or not re.search(r"\d", body):
        return None
    dots, commas = body.count("."), body.count(",")
    if dots and commas:
        decimal_sep = "." if body.rfind(".") > body.rfind(",") else ","
        group_sep = "," if decimal_sep == "." else "."
        whole, _, frac = body.rpartition(decimal_sep)
        if (
            not re.fullmatch(rf"\d{{1,3}}(?:{re.escape(group_sep)}\d{{3}})*", whole)
            or not frac.isdigit()
        ):
            return None
        body = whole.replace(group_sep, "") + "." + frac
    elif dots > 1 or commas > 1:
        sep = "." if dots else ","
        if not re.fullmatch(rf"\d{{1,3}}(?:{re.escape(sep)}\d{{3}})+", body):
            return None
        body = body.replace(sep, "")
    else:
        body = body.replace(",", ".")
        if not _PLAIN.fullmatch(body):
            return None
    try:
        return Decimal(sign + body)
    except InvalidOperation:
        return None


def _split_units(text: str) -> tuple[str, Decimal, str | None]:
    """(text without unit words, scale multiplier, error)."""
    pattern, table = _units()
    scales = []
    for m in pattern.finditer(text):
        multiplier, kind = table[m[1]]
        if kind == "scale":
            scales.append(m[1])
    if len(scales) > 1:
        return text, Decimal(1), f"two scale words ({', '.join(scales)})"
    multiplier = table[scales[0]][0] if scales else Decimal(1)
    return pattern.sub(" ", text), multiplier, None


@lru_cache(maxsize=CACHE_SIZE)
def _parse_decimal_str(raw: str) -> tuple[Decimal | None, str | None]:
    text = normalize_text(raw)
    if not text or text in DASHES:
        return None, None
    body, multiplier, error = _split_units(text)
    if error:
        return None, f"not a number: {_shown(raw)} ({error})"
    body = " ".join(body.split())
    if not body:
        return None, f"not a number: {_shown(raw)} (a unit without a number)"
    value = _decimal_from_text(body)
    if value is None:
        return None, f"not a number: {_shown(raw)}"
    return value * multiplier, None


def _decimal(raw: Any, kind: str) -> tuple[Decimal | float | None, str | None]:
    if is_missing(raw):
        return None, None
    if _is_number(raw):
        value = float(raw)
        if not math.isfinite(value):
            return None, f"{kind} {raw!r} is not a finite number"
        return (int(raw) if isinstance(raw, numbers.Integral) else value), None
    if isinstance(raw, bool):
        return None, f"{kind} {raw!r} is a yes/no value, not a number"
    if isinstance(raw, dt.date | pd.Timestamp):
        return None, f"{kind} {raw!r} is a date, not a number"
    return _parse_decimal_str(raw if isinstance(raw, str) else str(raw))


@_guard("number")
def parse_number(raw: Any) -> Parsed:
    """An amount → ``float``: decimal comma, thousand separators (space, no-break
    space, ``1.234.567,8``, ``1,234,567.8``), ``тыс.``/``млн``/``млрд`` in the
    cell, currency words ignored. Dashes and empty cells → ``None``.

    >>> parse_number("1.234.567,8").value, parse_number("2,5 млн тенге").value
    (1234567.8, 2500000.0)
    >>> parse_number("—")
    Parsed(value=None, error=None)
    """
    value, error = _decimal(raw, "number")
    return Parsed(None if value is None else float(value), error)


@_guard("count")
def parse_count(raw: Any) -> Parsed:
    """A non-negative whole number → ``int``: ``1 500``, ``1,5 тыс.``,
    ``12 000 чел.``, ``1,2 млн``, ``1500.0``; dashes and empty cells → ``None``.

    >>> parse_count("12 000 чел.").value, parse_count(1500.0).value
    (12000, 1500)
    >>> parse_count("2,5").error
    "count '2,5' is not a whole number"
    """
    value, error = _decimal(raw, "count")
    if error or value is None:
        return Parsed(None, error)
    shown = _shown(raw)
    if value < 0:
        return Parsed(None, f"count {shown} is negative")
    whole = round(value)
    if abs(value - whole) > INTEGER_TOLERANCE * max(1, abs(whole)):
        return Parsed(None, f"count {shown} is not a whole number")
    return Parsed(int(whole), None)


def unit_multiplier(text: Any) -> float | None:
    """The multiplier of the money unit named in a header, title or label:
    ``тыс. тенге`` 1e3, ``млн тенге`` 1e6, ``млрд тенге`` 1e9, ``тенге`` 1;
    ``None`` when no unit is named.

    >>> unit_multiplier("Сумма, тыс.тенге"), unit_multiplier("Количество заявлений")
    (1000.0, None)
    """
    try:
        normal = normalize_text(text)
        return _unit_multiplier(normal) if normal else None
    except Exception:  # the contract: never raise
        _LOG.debug("unit_multiplier failed on %r", text, exc_info=True)
        return None


@lru_cache(maxsize=CACHE_SIZE)
def _unit_multiplier(text: str) -> float | None:
    pattern, table = _units()
    kinds = [table[m[1]] for m in pattern.finditer(text)]
    scales = [mult for mult, kind in kinds if kind == "scale"]
    if scales:
        return float(scales[0])
    if any(kind == "currency" for _, kind in kinds):
        return 1.0
    return None


# ----------------------------------------------------------------- vocabulary fields
@_guard("channel")
def parse_channel(raw: Any) -> Parsed:
    """A channel label → canonical id of ``domain.CHANNELS``.

    >>> parse_channel("пост в Facebook").value, parse_channel("LED-экран").value
    ('social', 'outdoor')
    >>> parse_channel("плакат").error.startswith("unknown channel 'плакат'; closest:")
    True
    """
    return vocabulary("channel").match(raw)


_LANGUAGE_SPLIT = re.compile(r"\s*(?:/|,|;|\+|&|\bи\b|\band\b|\bжәне\b)\s*")


@_guard("language")
def parse_language(raw: Any) -> Parsed:
    """A language label → ``ru``, ``kk`` or ``both`` (``рус/каз``, ``рус, каз``).

    >>> parse_language("русский").value, parse_language("қаз").value, parse_language("рус, каз").value
    ('ru', 'kk', 'both')
    """
    vocab = vocabulary("language")
    whole = vocab.match(raw, full_cover=True)
    if whole.value is not None or not whole.error:
        return whole
    text = normalize_text(raw)
    parts = [p for p in _LANGUAGE_SPLIT.split(text) if p]
    if len(parts) < 2:
        return whole
    found = set()
    for part in parts:
        parsed = vocab.match(part, full_cover=True)
        if parsed.error:
            return Parsed(None, f"unknown language {_shown(raw)}: part {part!r} is not a language")
        found.add(parsed.value)
    found.discard(None)
    if not found:
        return Parsed(None, None)
    return Parsed(found.pop() if len(found) == 1 else "both", None)


@_guard("format")
def parse_format(raw: Any) -> Parsed:
    """A material format → ``news`` (also when empty), ``targeted``,
    ``testimonial`` or ``explainer``.

    >>> parse_format("История успеха").value, parse_format("").value
    ('testimonial', 'news')
    """
    parsed = vocabulary("format").match(raw)
    if parsed.value is None and parsed.error is None:
        return Parsed("news", None)
    return parsed


@_guard("platform")
def parse_platform(raw: Any) -> Parsed:
    """A social platform → ``facebook``, ``instagram``, ``vk``, ``odnoklassniki``,
    ``telegram``, ``whatsapp``, ``youtube`` or ``twitter``.

    >>> parse_platform("ВКонтакте").value, parse_platform("ok.ru").value
    ('vk', 'odnoklassniki')
    """
    return vocabulary("platform").match(raw)


# ----------------------------------------------------------------- row labels
def _first_words(raw: Any) -> tuple[str, ...]:
    try:
        return fold_words(normalize_text(raw))
    except Exception:  # the contract: never raise
        return ()


def is_summary_label(raw: Any) -> bool:
    """True for a total line's label: ``Итого``, ``Всего``, ``ИТОГО по району``,
    ``Барлығы``, ``Total``.

    >>> is_summary_label("ИТОГО по району:"), is_summary_label("Итоговая встреча")
    (True, False)
    """
    words = _first_words(raw)
    return bool(words) and words[0] in SUMMARY_WORDS


def is_summary_or_footer(raw: Any) -> bool:
    """:func:`is_summary_label` or :func:`is_footer_label`, the text folded once.

    >>> is_summary_or_footer("Итого"), is_summary_or_footer("Тел. 2-11-40"), is_summary_or_footer("01.03.2016")
    (True, True, False)
    """
    words = _first_words(raw)
    return bool(words) and (
        words[0] in SUMMARY_WORDS or any(words[: len(p)] == p for p in FOOTER_PHRASES)
    )


def is_footer_label(raw: Any) -> bool:
    """True for a signature-block line: ``Исп. ...``, ``Исполнитель``, ``Тел. ...``,
    ``Руководитель ...``, ``Аким района ...``, ``М.П.``.

    >>> is_footer_label("Исп. Ахметова А."), is_footer_label("Акимат Аягозского района")
    (True, False)
    """
    words = _first_words(raw)
    return any(words[: len(p)] == p for p in FOOTER_PHRASES)
