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
def _warning_patterns() -> list[tuple[str, re.Pattern[str]]]:
    out = []
    for key, texts in catalog()["model_warnings"].items():
        pieces = re.split(r"(\{\w+\})", texts["en"])
        regex = "".join(
            f"(?P<{p[1:-1]}>.+?)" if re.fullmatch(r"\{\w+\}", p) else re.escape(p) for p in pieces
        )
        # a field repeated in the template matches the same text each time
        seen: set[str] = set()

        def _backref(match: re.Match[str], seen: set[str] = seen) -> str:
            name = match.group(1)
            if name in seen:
                return f"(?P={name})"
            seen.add(name)
            return match.group(0)

        regex = re.sub(r"\(\?P<(\w+)>\.\+\?\)", _backref, regex)
        out.append((key, re.compile(regex + r"\Z", re.DOTALL)))
    return out


def model_warning(warning: str, lang: str = "en") -> str:
    """A warning of the models (written in English by :mod:`coverage_analysis.models`) in
    ``lang``: recognised against the catalog's English templates and re-rendered; a warning
    the catalog does not know is named as such (never shown in English in a Russian report).

    >>> model_warning("The chosen decay 0.9 is at the edge of the search grid.", "ru")
    'Выбранное затухание 0.9 находится на краю сетки поиска.'
    """
    if check_lang(lang) == "en":
        return warning
    for key, pattern in _warning_patterns():
        found = pattern.match(warning.strip())
        if found:
            return message("model_warnings", key, lang, **found.groupdict())
    return message("report", "model_warning_other", lang, warning=warning)


class _Text(dict):
    """``TEXT[lang][key]``: the ``report`` group of the catalog by language (read-only view
    kept for the section code written against the former dictionary)."""

    def __missing__(self, lang: str) -> dict[str, str]:
        return words("report", lang)


#: The report sentences by language, ``TEXT["ru"]["rank"]``.
TEXT: dict[str, dict[str, str]] = _Text()
