"""Vocabularies: tables of (canonical id, variant) matched on normalised text.

A vocabulary is data (a CSV in ``coverage_analysis/reference``), never a chain
of ``if`` branches. Matching works on *keys*: the text normalised
(:func:`normalize_text`), Kazakh letters folded to their Russian look-alikes
(``қ``→``к``, ``ө``→``о`` ...), punctuation turned into spaces, and each word
reduced to a light stem (a Russian case ending removed), so that ``газете``,
``газеты`` and ``газета`` meet.

A value matches

1. exactly, when its key equals a variant's key; else
2. by containment, when the words of one or more variants occur in it as whole
   words, in order. Of overlapping matches the longest wins (``сюжет на радио``
   beats ``сюжет``); when the remaining matches name two canonical ids the
   value is *ambiguous* and is an error, as the spec asks.

The vocabulary remembers which entries ever matched: :meth:`Vocabulary.unused`
lists the others and :meth:`Vocabulary.log_unused` warns about them.

This module depends on nothing else in the package, so that any module can
import it without import cycles.

>>> v = Vocabulary([("tv", "ТВ"), ("radio", "радио"), ("radio", "сюжет на радио")],
...                name="channel")
>>> v.match("Сюжет на радио").value, v.match("ТВ").value
('radio', 'tv')
>>> v.match("газета").error
"unknown channel 'газета'; closest: tv (ТВ), radio (радио)"
>>> v.unused()
[('radio', 'радио')]
"""

from __future__ import annotations

import csv
import difflib
import logging
import math
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

_LOG = logging.getLogger(__name__)

#: Size of the memo of each text function (unique values of a column fit easily).
CACHE_SIZE = 1 << 16
#: How many closest candidates an "unknown" error names.
CLOSEST_COUNT = 3
#: A word is stemmed only if at least this many letters remain.
MIN_STEM_LENGTH = 3
#: Russian case/number endings removed by :func:`stem_word`, longest first.
RUSSIAN_ENDINGS: tuple[str, ...] = tuple(
    sorted(
        [
            "ями",
            "ами",
            "ого",
            "его",
            "ому",
            "ему",
            "ыми",
            "ими",
            "иях",
            "иям",
            "ией",
            "ах",
            "ях",
            "ам",
            "ям",
            "ом",
            "ем",
            "ой",
            "ей",
            "ий",
            "ый",
            "ая",
            "яя",
            "ое",
            "ее",
            "ые",
            "ие",
            "ых",
            "их",
            "ым",
            "им",
            "ую",
            "юю",
            "ов",
            "ев",
            "ию",
            "ия",
            "ии",
            "ью",
            "а",
            "я",
            "ы",
            "и",
            "у",
            "ю",
            "е",
            "о",
            "ь",
            "й",
        ],
        key=len,
        reverse=True,
    )
)
#: Kazakh letters folded to the Russian letter they are commonly typed as.
KAZAKH_FOLD = str.maketrans("әғқңөұүһі", "агкноуухи")
#: Latin letters that look like Cyrillic ones (fixed only inside mixed-script words).
LATIN_LOOKALIKES = str.maketrans("aceopxykmtbh", "асеорхукмтвн")
#: Characters turned into a plain space by :func:`normalize_text`.
_SPACE_CHARS = dict.fromkeys(map(ord, "\u00a0\u2007\u2009\u202f\u2002\u2003\u3000\n\r\t\v\f"), " ")
_SPACE_CHARS.update(dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff\u00ad"), ""))
_MULTISPACE = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^\w]+|_+")
_CYRILLIC = re.compile(r"[а-я]")
_LATIN = re.compile(r"[a-z]")


class Parsed(NamedTuple):
    """Outcome of a parser: ``value`` (``None`` = unknown/empty) and ``error``
    (``None`` on success, else a reason that names the value).

    >>> Parsed(5, None).value
    5
    """

    value: Any
    error: str | None


def is_missing(raw: object) -> bool:
    """True for ``None``, NaN, ``pd.NA`` and ``NaT`` (without importing pandas).

    >>> is_missing(float("nan")), is_missing(None), is_missing(0)
    (True, True, False)
    """
    if raw is None:
        return True
    if isinstance(raw, float):
        return math.isnan(raw)
    kind = type(raw).__name__
    if kind in ("NAType", "NaTType"):
        return True
    if kind.startswith("float"):  # numpy floating scalars
        try:
            return bool(math.isnan(float(raw)))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False
    if kind == "datetime64":
        return str(raw) == "NaT"
    return False


def normalize_text(raw: object) -> str:
    """The shared normaliser: NFC, lowercase, ``ё``→``е``, no-break/thin spaces
    and line breaks → space, runs of spaces collapsed, ends stripped.
    Missing values give ``""``.

    >>> normalize_text("  Аягозский\\nрайон\\u00a0ЁЖ ")
    'аягозский район еж'
    >>> normalize_text(None), normalize_text(1500)
    ('', '1500')
    """
    if is_missing(raw):
        return ""
    return _normalize_str(raw if isinstance(raw, str) else str(raw))


@lru_cache(maxsize=CACHE_SIZE)
def _normalize_str(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower().replace("ё", "е").translate(_SPACE_CHARS)
    return _MULTISPACE.sub(" ", text).strip()


def _fix_mixed_script(word: str) -> str:
    if _CYRILLIC.search(word) and _LATIN.search(word):
        return word.translate(LATIN_LOOKALIKES)
    return word


@lru_cache(maxsize=CACHE_SIZE)
def fold_words(text: str) -> tuple[str, ...]:
    """Words of ``text``: normalised, Kazakh letters folded, punctuation as
    separators, Latin look-alikes fixed inside Cyrillic words.

    >>> fold_words("г.Өскемен, ТB-сюжет")
    ('г', 'оскемен', 'тв', 'сюжет')
    """
    folded = _normalize_str(text).translate(KAZAKH_FOLD)
    return tuple(_fix_mixed_script(w) for w in _NON_WORD.sub(" ", folded).split())


@lru_cache(maxsize=CACHE_SIZE)
def stem_word(word: str) -> str:
    """A light Russian stem: the longest case ending removed when at least
    :data:`MIN_STEM_LENGTH` letters remain; Latin words and numbers unchanged.

    >>> stem_word("газетах"), stem_word("газета"), stem_word("тв"), stem_word("facebook")
    ('газет', 'газет', 'тв', 'facebook')
    """
    if not _CYRILLIC.search(word):
        return word
    for ending in RUSSIAN_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= MIN_STEM_LENGTH:
            return word[: -len(ending)]
    return word


def text_key(text: object) -> tuple[str, ...]:
    """Stemmed words of a value: the matching key of vocabularies.

    >>> text_key("Статьи в газетах")
    ('стать', 'в', 'газет')
    """
    return _text_key(normalize_text(text))


@lru_cache(maxsize=CACHE_SIZE)
def _text_key(text: str) -> tuple[str, ...]:
    return tuple(stem_word(w) for w in fold_words(text))


@dataclass(frozen=True)
class VocabEntry:
    """One row of a vocabulary: its canonical id, the variant as written, its key."""

    canonical: str
    variant: str
    key: tuple[str, ...]


class Vocabulary:
    """A (canonical, variant) table matched on normalised text.

    ``name`` names the field in error messages (``"unknown channel '...'"``).
    ``allowed`` (optional) lists the canonical ids the table may use; a row with
    another id is a data error raised at construction.

    >>> v = Vocabulary([("print", "газета"), ("print", "статья в газете")], name="channel")
    >>> v.match("Статьи в газетах").value
    'print'
    >>> v.canonicals
    ('print',)
    """

    def __init__(
        self,
        entries: Iterable[tuple[str, str]],
        name: str = "value",
        allowed: Iterable[str] | None = None,
    ) -> None:
        self.name = name
        allowed_set = None if allowed is None else set(allowed)
        self.entries: list[VocabEntry] = []
        self._exact: dict[tuple[str, ...], int] = {}
        for canonical, variant in entries:
            canonical, variant = str(canonical).strip(), str(variant).strip()
            if allowed_set is not None and canonical not in allowed_set:
                raise ValueError(
                    f"{name} vocabulary: {canonical!r} (variant {variant!r}) is not one of "
                    f"{sorted(allowed_set)}"
                )
            key = text_key(variant)
            if not key:
                continue
            seen = self._exact.get(key)
            if seen is not None and self.entries[seen].canonical != canonical:
                raise ValueError(
                    f"{name} vocabulary: variant {variant!r} maps to both "
                    f"{self.entries[seen].canonical!r} and {canonical!r}"
                )
            self.entries.append(VocabEntry(canonical, variant, key))
            if seen is None:
                self._exact[key] = len(self.entries) - 1
        self._used: set[int] = set()
        self._cache: dict[tuple[str, bool], tuple[Parsed, tuple[int, ...]]] = {}
        self._joined = {" ".join(e.key): i for i, e in enumerate(self.entries)}
        self._by_first: dict[str, list[int]] = {}
        for index, entry in enumerate(self.entries):
            self._by_first.setdefault(entry.key[0], []).append(index)

    @classmethod
    def from_csv(
        cls,
        path: str | os.PathLike[str],
        name: str | None = None,
        allowed: Iterable[str] | None = None,
    ) -> Vocabulary:
        """Read a CSV whose first column is the canonical id and whose
        ``variant`` column (else the second column) holds the variant."""
        with open(path, encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        if not rows:
            return cls([], name=name or os.path.basename(str(path)), allowed=allowed)
        columns = list(rows[0].keys())
        variant_col = "variant" if "variant" in columns else columns[1]
        return cls(
            ((r[columns[0]], r[variant_col]) for r in rows if r[columns[0]] and r[variant_col]),
            name=name or columns[0],
            allowed=allowed,
        )

    @property
    def canonicals(self) -> tuple[str, ...]:
        """Canonical ids in order of first appearance."""
        return tuple(dict.fromkeys(e.canonical for e in self.entries))

    def match(self, raw: object, full_cover: bool = False) -> Parsed:
        """Canonical id of ``raw``; ``Parsed(None, None)`` when empty; an error
        naming the value and the closest candidates when unknown or ambiguous.
        With ``full_cover`` every word of the value must belong to a matched variant
        (``рус нем`` is then unknown rather than ``ru``).

        >>> v = Vocabulary([("ru", "рус")], name="language")
        >>> v.match("рус нем").value, v.match("рус нем", full_cover=True).value
        ('ru', None)
        """
        text = normalize_text(raw)
        memo = (raw if isinstance(raw, str) else text, full_cover)
        cached = self._cache.get(memo)
        if cached is None:
            cached = self._match(text, raw, full_cover)
            if len(self._cache) >= CACHE_SIZE:  # bounded memo: start afresh
                self._cache.clear()
            self._cache[memo] = cached
        parsed, used = cached
        self._used.update(used)
        return parsed

    def _match(self, text: str, raw: object, full_cover: bool) -> tuple[Parsed, tuple[int, ...]]:
        key = _text_key(text)
        if not key:
            return Parsed(None, None), ()
        exact = self._exact.get(key)
        if exact is not None:
            return Parsed(self.entries[exact].canonical, None), (exact,)
        spans: list[tuple[int, int, int]] = []  # (start, end, entry)
        for start, word in enumerate(key):
            for index in self._by_first.get(word, ()):
                entry_key = self.entries[index].key
                if key[start : start + len(entry_key)] == entry_key:
                    spans.append((start, start + len(entry_key), index))
        # keep only maximal spans: drop a match lying inside a longer one
        kept = [
            s
            for s in spans
            if not any(
                o[0] <= s[0] and s[1] <= o[1] and (o[1] - o[0]) > (s[1] - s[0]) for o in spans
            )
        ]
        if full_cover:
            covered = {k for start, end, _ in kept for k in range(start, end)}
            if len(covered) < len(key):
                kept = []
        found = dict.fromkeys(self.entries[i].canonical for _, _, i in kept)
        if len(found) == 1:
            return Parsed(next(iter(found)), None), tuple(i for _, _, i in kept)
        shown = _shown(raw, text)
        if len(found) > 1:
            what = ", ".join(
                f"{c} ({next(self.entries[i].variant for _, _, i in kept if self.entries[i].canonical == c)})"
                for c in found
            )
            return Parsed(None, f"ambiguous {self.name} {shown}: matches {what}"), ()
        return Parsed(None, f"unknown {self.name} {shown}; closest: {self.closest(text)}"), ()

    def closest(self, raw: object, n: int = CLOSEST_COUNT) -> str:
        """The ``n`` closest canonical ids, each with its nearest variant, as text.

        >>> Vocabulary([("outdoor", "билборд"), ("tv", "ТВ")]).closest("билборды")
        'outdoor (билборд), tv (ТВ)'
        """
        target = " ".join(text_key(raw))
        ranked = sorted(
            self._joined.items(),
            key=lambda kv: -difflib.SequenceMatcher(None, target, kv[0]).ratio(),
        )
        picked: dict[str, str] = {}
        for _, index in ranked:
            entry = self.entries[index]
            picked.setdefault(entry.canonical, entry.variant)
            if len(picked) >= n:
                break
        return ", ".join(f"{c} ({v})" for c, v in picked.items()) or "none"

    def unused(self) -> list[tuple[str, str]]:
        """Entries (canonical, variant) that no value has matched so far."""
        return [(e.canonical, e.variant) for i, e in enumerate(self.entries) if i not in self._used]

    def log_unused(
        self, logger: logging.Logger | None = None, level: int = logging.WARNING
    ) -> None:
        """Warn (one line) about the entries never matched."""
        unused = self.unused()
        if unused:
            (logger or _LOG).log(
                level,
                "%s vocabulary: %d of %d entries never matched: %s",
                self.name,
                len(unused),
                len(self.entries),
                ", ".join(f"{c}={v!r}" for c, v in unused),
            )

    def reset_usage(self) -> None:
        """Forget which entries were used (e.g. before cleaning another folder)."""
        self._used.clear()


def _shown(raw: object, text: str) -> str:
    """The value as an error message shows it: the original string, quoted."""
    return repr(raw.strip()) if isinstance(raw, str) else repr(text)
