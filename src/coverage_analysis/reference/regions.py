"""Regions and unit kinds of official statistics files.

Why: a national bulletin lists the whole republic as one nested list. To keep the rows
of the region of study and set the others aside (``out_of_scope``), a row must be
recognised as a region heading (``Шығыс  Қазақстан``, ``Абай``, ``г. Астана``,
``Туркестанская 1``), a district-level unit (``Аягөз ауданы``, ``Семей қ.ә.``) or a part
of one (``Семей қаласы``, ``Шүлбі к.``). The words are data: ``regions.csv`` (from the
region polygons, see ``scripts/build_lineage.py``), ``region_aliases.csv`` and
``unit_markers.csv``.

>>> r = RegionNames()
>>> r.match("Шығыс  Қазақстан"), r.match("Туркестанская 1"), r.match("г. Астана"), r.match("Абай")
('63', '61', '71', '10')
>>> r.match("Абай ауданы") is None, r.match("Абайская область")
(True, '10')
>>> r.match("Алматы қаласы"), r.match("Алматы"), r.match("Абай қаласы")
('75', '19', None)
>>> unit_kind("Семей қ.ә."), unit_kind("Аягөз ауданы"), unit_kind("Шүлбі к."), unit_kind("Семей қаласы")
('administration', 'district', 'part', 'part')
>>> unit_kind("Курчатов")
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache

from coverage_analysis.reference import load_regions, reference_path

#: Words that mark a name as a region's (dropped from the key): ``область``, ``облысы``.
REGION_WORDS = frozenset({"область", "обл", "облысы", "облыс", "облысынын", "region", "oblast"})
#: Words that mark a city of republican significance (dropped from the key).
CITY_WORDS = frozenset({"г", "город", "каласы", "кала", "city"})
#: Unit kinds of ``unit_markers.csv``.
UNIT_KINDS: tuple[str, ...] = ("administration", "district", "part")
#: KATO prefixes from here on are the cities of republican significance (71, 75, 79).
CITY_KATO = "71"
_FOOTNOTE = re.compile(r"(?:\s+\d{1,2}\)?|\*+)$")


def _fold(text: str) -> tuple[str, ...]:
    from coverage_analysis.clean.vocab import fold_words

    return fold_words(_FOOTNOTE.sub("", text.strip()))


def region_key(text: str) -> tuple[str, ...]:
    """Words of a region name without the words ``область``/``облысы``/``г.`` and a
    trailing footnote number.

    >>> region_key("Туркестанская 1"), region_key("Шығыс  Қазақстан облысы")
    (('туркестанская',), ('шыгыс', 'казакстан'))
    """
    return tuple(w for w in _fold(text) if w not in REGION_WORDS and w not in CITY_WORDS)


def _adjective_stem(words: tuple[str, ...]) -> tuple[str, ...]:
    """``Абайская`` -> ``абай`` (the Russian adjective ending of a region name)."""
    if not words:
        return words
    last = re.sub(r"(?:ская|ской|скую|ская|кая|ская)$", "", words[-1])
    return (*words[:-1], last)


class RegionNames:
    """Region names (Russian adjective, Kazakh short form, English, aliases) -> the
    region's two-digit KATO prefix."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, ...], set[str]] = {}
        for row in load_regions().itertuples():
            for name in (row.name_ru, row.name_kk, row.name_en):
                self._add(row.region_kato, str(name).replace("(қала)", "").replace("(city)", ""))
        with open(reference_path("region_aliases.csv"), encoding="utf-8-sig", newline="") as h:
            for row in csv.DictReader(h):
                self._add(row["region_kato"], row["alias"])

        self._memo: dict[str, str | None] = {}
        self._labels = dict(zip(load_regions().region_kato, load_regions().name_en, strict=True))

    def label(self, code: str) -> str:
        """The English name of region ``code`` (``10`` -> ``Abay``)."""
        return self._labels.get(code, code)

    def _add(self, code: str, name: str) -> None:
        key = region_key(name)
        if key:
            self._keys.setdefault(key, set()).add(code)
            self._keys.setdefault(_adjective_stem(key), set()).add(code)

    def match(self, text: object) -> str | None:
        """Memoised :meth:`_match` (a sheet's first column is looked at more than once)."""
        if not isinstance(text, str):
            return None
        if text not in self._memo:
            self._memo[text] = self._match(text)
        return self._memo[text]

    def _match(self, text: str) -> str | None:
        """The region code when ``text`` is a region's name (and no district or
        settlement: ``Абай ауданы`` is not a region), else None. A name that two regions
        share (``Алматы``: the region's Kazakh name and the city) is taken as the city
        when ``г.``/``қаласы`` says so, else as the region."""
        if not isinstance(text, str) or not text.strip():
            return None
        words = _fold(text)
        city = any(w in CITY_WORDS for w in words)
        kind = unit_kind(text)
        if kind is not None and not (kind == "part" and city):
            return None
        key = region_key(text)
        codes = self._keys.get(key) or self._keys.get(_adjective_stem(key)) or set()
        cities = {c for c in codes if c >= CITY_KATO}
        if kind == "part":  # ``Алматы қаласы`` is a republican city, ``Абай қаласы`` a town
            codes = cities
        elif len(codes) > 1:
            codes = cities if city else codes - cities
        return next(iter(codes)) if len(codes) == 1 else None


@lru_cache(maxsize=1)
def _markers() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    out = []
    with open(reference_path("unit_markers.csv"), encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            out.append((row["unit"], row["position"], _marker_words(row["marker"])))
    # longest marker first: ``қ.ә.`` before ``қ.``
    return tuple(sorted(out, key=lambda m: -len(m[2])))


def _marker_words(text: str) -> tuple[str, ...]:
    from coverage_analysis.clean.vocab import normalize_text

    return tuple(w for w in re.split(r"[\s.]+", normalize_text(text)) if w)


def unit_kind(name: object) -> str | None:
    """``administration``, ``district`` or ``part`` from the marker word of a unit's
    name (``unit_markers.csv``), None when the name carries none."""
    if not isinstance(name, str):
        return None
    words = _marker_words(name)
    if len(words) < 2:
        return None
    for unit, position, marker in _markers():
        n = len(marker)
        if len(words) <= n:
            continue
        if (position == "end" and words[-n:] == marker) or (
            position == "start" and words[:n] == marker
        ):
            return unit
    return None
