"""HTML and number helpers of the reports: sections as HTML, tables, embedded figures,
and numbers, percents and months written the way the report's language writes them.

Why babel: ``10 705,9``, ``47 %`` and ``январь 2016`` follow the CLDR data of each locale
(group separator, decimal comma, the no-break space before ``%``, stand-alone month
names) instead of hand-written rules. The report language is set once per section call
(:func:`using_lang`, done by :mod:`~coverage_analysis.report.sections`), so a helper called
deep inside a section (``fmt``, ``pct``) formats for the report it is part of. The
no-break space U+00A0 babel puts between digit groups is kept in HTML and PDF.

Everything derived from data is escaped (``html.escape``, ``to_html(escape=True)``).

>>> s = Section("T<1>", ["<p>x</p>"])
>>> s._repr_html_().startswith("<section")
True
>>> "T&lt;1&gt;" in s._repr_html_()
True
>>> with using_lang("ru"):
...     fmt(10705.9, 1), pct(47.0, 0, signed=False)
('10\\xa0705,9', '47\\xa0%')
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import datetime as dt
import html
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from coverage_analysis.report.catalog import check_lang, column_label, from_english, message

if TYPE_CHECKING:
    import matplotlib.pyplot as plt
    import pandas as pd

#: Babel locale of each report language.
LOCALES: dict[str, str] = {"en": "en", "ru": "ru"}
#: Integer columns written without digit grouping (identifiers, not quantities).
PLAIN_INTEGER_COLUMNS: frozenset[str] = frozenset({"source_row", "year"})
#: Written for a missing number.
MISSING = "—"

_LANG: contextvars.ContextVar[str] = contextvars.ContextVar("report_lang", default="en")


@contextlib.contextmanager
def using_lang(lang: str) -> Iterator[str]:
    """Format numbers for ``lang`` inside the ``with`` block."""
    token = _LANG.set(check_lang(lang))
    try:
        yield lang
    finally:
        _LANG.reset(token)


def current_lang(lang: str | None = None) -> str:
    """``lang`` if given, else the language set by :func:`using_lang` (default ``en``)."""
    return check_lang(lang) if lang else _LANG.get()


def _number(value: object) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def fmt(value: object, digits: int = 2, lang: str | None = None) -> str:
    """A number with the locale's group separator and decimal mark, ``—`` for missing.

    >>> fmt(1234.567, 1), fmt(None), fmt(float("nan")), fmt(1234.5, 0, "ru")
    ('1,234.6', '—', '—', '1\\xa0234')
    """
    from babel.numbers import format_decimal

    number = _number(value)
    if number is None:
        return MISSING if value is None or isinstance(value, float) else str(value)
    if math.isinf(number):
        return "∞" if number > 0 else "−∞"
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(
        number, format=pattern, locale=LOCALES[current_lang(lang)], decimal_quantization=True
    )


def _percent_pattern(lang: str, digits: int) -> str:
    from babel import Locale

    pattern = Locale.parse(LOCALES[lang]).percent_formats[None].pattern.split(";")[0]
    return pattern.replace("0", "0" + ("." + "0" * digits if digits else ""), 1)


def pct(value: object, digits: int = 1, signed: bool = True, lang: str | None = None) -> str:
    """``value`` (already in percent) as a percent of the locale (``+30.2%``, ``47 %``);
    signed by default; ``—`` for missing or unbounded.

    >>> pct(30.172), pct(-3.86), pct(None), pct(47, 0, signed=False, lang="ru")
    ('+30.2%', '-3.9%', '—', '47\\xa0%')
    """
    from babel.numbers import format_percent

    number = _number(value)
    if number is None or math.isinf(number):
        return MISSING
    lang = current_lang(lang)
    body = format_percent(
        abs(number) / 100.0, format=_percent_pattern(lang, digits), locale=LOCALES[lang]
    )
    if round(number, digits) == 0 or not signed:
        sign = "-" if (number < 0 and not signed and round(number, digits) != 0) else ""
        return sign + body
    return ("+" if number > 0 else "-") + body


def share(value: object, digits: int = 0, lang: str | None = None) -> str:
    """A fraction (0-1) as a percent of the locale, unsigned.

    >>> share(0.104), share(0.47, lang="ru")
    ('10%', '47\\xa0%')
    """
    number = _number(value)
    return MISSING if number is None else pct(100.0 * number, digits, signed=False, lang=lang)


def month(value: object, lang: str | None = None) -> str:
    """A month as the locale names it on its own: ``January 2016``, ``январь 2016``.

    >>> month("2016-01-01", "ru"), month("2015-12-01")
    ('январь 2016', 'December 2015')
    """
    from babel.dates import format_date

    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10] if len(value) > 7 else value + "-01")
    if hasattr(value, "date") and callable(value.date):
        value = value.date()  # type: ignore[union-attr]
    return format_date(value, "LLLL yyyy", locale=LOCALES[current_lang(lang)])


@dataclass
class Section:
    """One report section: a heading and already-escaped HTML parts."""

    title: str
    parts: list[str] = field(default_factory=list)
    level: int = 2

    def _repr_html_(self) -> str:
        tag = f"h{self.level}"
        head = f"<{tag}>{html.escape(self.title)}</{tag}>" if self.title else ""
        return f"<section class='ca-section'>{head}{''.join(self.parts)}</section>"

    def __repr__(self) -> str:  # plain-text fallback, e.g. in a terminal
        return f"Section({self.title!r}, {len(self.parts)} parts)"


class Sections(list):
    """A list of sections that displays as one HTML block in a notebook.

    >>> "<h2>A</h2>" in Sections([Section("A")])._repr_html_()
    True
    """

    def _repr_html_(self) -> str:
        return "".join(s._repr_html_() for s in self)


def para(body: str, cls: str | None = None) -> str:
    """A paragraph of already-escaped ``body``."""
    attr = f" class='{cls}'" if cls else ""
    return f"<p{attr}>{body}</p>"


def text(key: str, lang: str = "en", **values: object) -> str:
    """Report sentence ``key`` in ``lang`` with ``values`` HTML-escaped and filled in.

    >>> text("not_available", "en", reason="<b>")
    'Not available: &lt;b&gt;'
    """
    template = html.escape(message("report", key, lang), quote=False)
    return template.format(**{k: html.escape(str(v)) for k, v in values.items()})


def unavailable(reason: object, lang: str = "en") -> str:
    """The one "not available: reason" box of every section. Outside English, a reason
    written in English elsewhere (an exception, a model's status) goes through the
    catalog's templates, so it never reaches a Russian report in English."""
    return f"<div class='ca-unavailable'>{text('not_available', lang, reason=localized_reason(reason, lang))}</div>"


_CYRILLIC = re.compile("[\u0400-\u04ff]")


def localized_reason(reason: object, lang: str = "en") -> str:
    """``reason`` as is in English or when already in the report's script (a catalog
    message, data); else recognised by the catalog's model templates or replaced by a
    pointer to the English report.

    >>> localized_reason("KeyError: 'x'", "ru")
    'подробности — в английской версии отчёта'
    """
    reason = str(reason)
    if lang == "en" or _CYRILLIC.search(reason):
        return reason
    return from_english("model_warnings", reason, lang, "problem_other")


_DIGITS = re.compile(r"\.(\d+)f")


def _cell(value: object, digits: int, lang: str) -> object:
    if isinstance(value, bool):
        return column_label("true" if value else "false", lang)
    if isinstance(value, float):
        return fmt(value, digits, lang)
    if lang != "en" and isinstance(value, str):
        return column_label(value, lang)  # channel groups, input kinds, field names
    return value


def table_html(frame: pd.DataFrame, index: bool = False, float_format: str = "{:,.1f}") -> str:
    """``frame`` as an escaped HTML table; floats with ``float_format``'s number of decimals
    in the report's locale, booleans and (outside English) model column names from the
    catalog.

    >>> import pandas as pd
    >>> "&lt;script&gt;" in table_html(pd.DataFrame({"a": ["<script>"]}))
    True
    """
    import pandas as pd

    lang = current_lang()
    found = _DIGITS.search(float_format)
    digits = int(found.group(1)) if found else 1
    shown = frame.copy()
    for col in shown.columns:
        series = shown[col]
        text_like = series.dtype == object or pd.api.types.is_string_dtype(series.dtype)
        if pd.api.types.is_float_dtype(series.dtype) or text_like:
            shown[col] = [
                MISSING if _is_missing(v) else _cell(v, digits, lang) for v in series.tolist()
            ]
        elif pd.api.types.is_bool_dtype(series.dtype):
            shown[col] = [_cell(bool(v), digits, lang) for v in series.tolist()]
        elif pd.api.types.is_integer_dtype(series.dtype) and col not in PLAIN_INTEGER_COLUMNS:
            shown[col] = [MISSING if _is_missing(v) else fmt(v, 0, lang) for v in series.tolist()]
    if lang != "en":
        shown = shown.rename(columns=lambda c: column_label(c, lang))
        if index:
            shown = shown.rename(index=lambda c: column_label(c, lang))
    return shown.to_html(index=index, escape=True, na_rep=MISSING, border=0, classes="ca-table")


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, NaT, pd.NA
    except (TypeError, ValueError):
        return False


def figure_html(
    ax: plt.Axes, name: str | None = None, figures_dir: str | Path | None = None
) -> str:
    """Embed ``ax``'s figure as a base64 PNG ``<img>``; also save it as PNG+SVG to
    ``figures_dir`` when given. The figure is closed."""
    import matplotlib.pyplot as plt

    from coverage_analysis import figures

    fig = ax.figure
    try:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", **figures.savefig_options(fig))
        if figures_dir is not None and name:
            # the PNG is the embedded one (drawn once); the SVG is drawn separately
            svg = figures.save_figure(fig, name, figures_dir, formats=("svg",))[0]
            svg.with_suffix(".png").write_bytes(buffer.getvalue())
    finally:
        plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"<figure><img alt='{html.escape(name or 'figure')}' src='data:image/png;base64,{data}'/></figure>"
