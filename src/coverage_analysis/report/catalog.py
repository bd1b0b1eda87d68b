"""The one message catalog: every user-facing string of the reports and figures, en and ru.

Why a data file: a translator edits ``messages.json`` (grouped by where the words appear:
``report``, ``figures``, ``channels``, ``model_warnings``, ``columns``), every key carries
both languages side by side, and ``tests/test_catalog.py`` checks that none is missing.
Nothing here imports pandas or matplotlib, so the figures, the runner and the CLI can use it
at no cost.

>>> message("report", "not_available", "ru", reason="x")
'Нет данных: x'
>>> column_label("p_value", "ru")
'p-значение'
"""

from __future__ import annotations

import functools
import json
import re
from importlib.resources import files

#: Languages every message exists in.
LANGS: tuple[str, ...] = ("en", "ru")
#: The catalog file inside this package.
CATALOG_FILE = "messages.json"


@functools.cache
def catalog() -> dict[str, dict[str, dict[str, str]]]:
    """The whole catalog: ``{group: {key: {lang: text}}}``."""
    text = (files("coverage_analysis.report") / CATALOG_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def check_lang(lang: str) -> str:
    """``lang`` if the catalog has it, else :class:`ValueError` naming the choices."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
    return lang


@functools.cache
def words(group: str, lang: str) -> dict[str, str]:
    """All messages of ``group`` in ``lang`` as ``{key: text}``."""
    check_lang(lang)
    return {key: texts[lang] for key, texts in catalog()[group].items()}


def message(group: str, key: str, lang: str = "en", **values: object) -> str:
    """Message ``key`` of ``group`` in ``lang``, ``{}`` fields filled (not escaped)."""
    template = words(group, lang)[key]
    return template.format(**values) if values else template


def column_label(name: str, lang: str = "en") -> str:
    """Display name of a table column (the name itself when the catalog has none)."""
    return words("columns", lang).get(str(name), str(name))


@functools.cache
def _patterns(group: str) -> list[tuple[str, re.Pattern[str]]]:
    """The English templates of ``group`` as regular expressions, in catalog order (the
    more specific template first)."""
    out = []
    for key, texts in catalog()[group].items():
        pieces = re.split(r"(\{\w+\})", texts["en"])
        seen: set[str] = set()
        regex = ""
        for piece in pieces:
            field = re.fullmatch(r"\{(\w+)\}", piece)
            if field is None:
                regex += re.escape(piece)
            elif field.group(1) in seen:  # a field repeated in the template: same text
                regex += f"(?P={field.group(1)})"
            else:
                seen.add(field.group(1))
                regex += f"(?P<{field.group(1)}>.+?)"
        out.append((key, re.compile(regex + r"\Z", re.DOTALL)))
    return out


_DECIMAL = re.compile(r"[+-]?\d+\.(\d+)")


def _local_number(value: str, lang: str) -> str:
    """A field that is an English decimal number (``3.4``) in ``lang``'s format (``3,4``)
    with the same digits; any other field as it is (integers stay as written: they may be
    years or counts that the English text did not group either).

    >>> _local_number("0.9", "ru"), _local_number("12", "ru"), _local_number("x.5", "ru")
    ('0,9', '12', 'x.5')
    """
    found = _DECIMAL.fullmatch(value)
    if found is None:
        return value
    from coverage_analysis.report.render import fmt  # render imports this module

    return fmt(float(value), len(found.group(1)), lang)


def from_english(group: str, english: str, lang: str, fallback: str) -> str:
    """Text another module wrote in English, in ``lang``: recognised against the English
    templates of ``group`` and re-rendered from the same template in ``lang`` (decimal
    numbers in the fields in ``lang``'s format); text the
    catalog does not know becomes the ``report`` message ``fallback`` (never English in a
    Russian report)."""
    if check_lang(lang) == "en":
        return english
    for key, pattern in _patterns(group):
        found = pattern.match(english.strip())
        if found:
            values = {name: _local_number(value, lang) for name, value in found.groupdict().items()}
            return message(group, key, lang, **values)
    return message("report", fallback, lang, reason=english, warning=english)


def model_warning(warning: str, lang: str = "en") -> str:
    """A warning or status of the models (written in English by
    :mod:`coverage_analysis.models`) in ``lang``.

    >>> model_warning("The chosen decay 0.9 is at the edge of the search grid.", "ru")
    'Выбранное затухание 0,9 находится на краю сетки поиска.'
    """
    return from_english("model_warnings", str(warning), lang, "model_warning_other")


def reject_reason(reason: str, lang: str = "en") -> str:
    """A reason of the cleaning ledger (``rejects.csv``, English) in ``lang``.

    >>> reject_reason("not a number: 'большой'", "ru")
    "не число: 'большой'"
    """
    return from_english("reject_reasons", str(reason), lang, "reject_reason_other")


class _Text(dict):
    """``TEXT[lang][key]``: the ``report`` group of the catalog by language (read-only view
    kept for the section code written against the former dictionary)."""

    def __missing__(self, lang: str) -> dict[str, str]:
        return words("report", lang)


#: The report sentences by language, ``TEXT["ru"]["rank"]``.
TEXT: dict[str, dict[str, str]] = _Text()
