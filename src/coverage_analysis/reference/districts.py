"""Resolve any spelling of a district or city to its ``district_id``.

Aliases come from two places: the name columns of the district reference
(``name_ru``, ``name_kk``, ``name_en``, ``center_ru``; a name in parentheses
such as ``Ust-Kamenogorsk (Oskemen)`` gives two aliases) and
``district_aliases.csv`` (``district_id,alias``: historic and later names,
abbreviations, Latin spellings, region-level words under the id ``region``, and
words to ignore under the id ``_ignore`` such as ``г.``, ``район``, ``ауданы``,
``акимат``, ``в``).

A value is reduced to a *key*: normalised, Kazakh letters folded to Russian
look-alikes (``Аягөз`` → ``аягоз``), punctuation dropped, ignorable words
(in any case form: ``районе``, ``акимата``) dropped, and adjectival names
stemmed generically (``Аягозском`` → ``аягоз``: the ``-ск-``/``-цк-`` suffix and
its case ending go). The words of the key are joined, so ``Катон-Карагай`` and
``Катонқарағай`` meet. A key matches an alias when it is equal, or when it is
the alias's stem plus a Russian case ending (``Семее``, ``Риддере``,
``Курчатове``), the stem being the alias without its final vowels. When the
whole value matches nothing, aliases occurring inside it as whole words count
(``Аппарат акима Аягозского района ВКО``); a district there wins over the
region. No match, or two districts, is an error naming the closest candidates.

>>> r = DistrictResolver()
>>> r.resolve("в Аягозском районе").value, r.resolve("г.Семей").value, r.resolve("ВКО").value
('ayagoz', 'semey', 'region')
>>> r.resolve("634800000").value, r.resolve(634800000).value
('zyryanovsk', 'zyryanovsk')
>>> r.resolve("Аякоз").error
"no district matches 'Аякоз'; closest: ayagoz (Аягоз), region (ВКО), tarbagatai (Аксуат)"
"""

from __future__ import annotations

import csv
import difflib
import logging
import os
import re
from typing import TYPE_CHECKING, Any

import pandas as pd

from coverage_analysis.domain import REGION_ID
from coverage_analysis.reference import load_districts, reference_path

if TYPE_CHECKING:  # imported lazily at run time: clean/ imports this module
    from coverage_analysis.clean.vocab import Parsed

_LOG = logging.getLogger(__name__)

#: Id of alias rows that are words to drop (``г.``, ``район``, ``акимат``).
IGNORE_ID = "_ignore"
#: Name columns of a reference whose values are aliases of their district.
NAME_COLUMNS: tuple[str, ...] = ("name_ru", "name_kk", "name_en", "center_ru")
#: How many closest candidates an error names.
CLOSEST_COUNT = 3
#: Values remembered by one resolver before its memo starts afresh.
CACHE_SIZE = 1 << 16
#: An alias stem shorter than this is matched only exactly (``ук``, ``вко``).
MIN_FLEX_STEM = 3
#: Endings of Russian adjectives built with -ск-/-цк- (``Аягозский``, ``Аягозском``).
ADJECTIVE_SUFFIX = re.compile(
    r"(?<=\w{3})(?:ск|цк)(?:ий|ого|ому|ым|им|ом|ая|ой|ою|ую|ое|ие|ые|их|ых|ими|ыми)$"
)
#: Case endings an alias may take: nouns (``Семей`` → ``Семее``, ``Риддер`` → ``Риддере``)
#: and other adjectives (``Солнечный`` → ``Солнечного``).
CASE_ENDINGS = frozenset(
    [
        "а",
        "я",
        "у",
        "ю",
        "е",
        "и",
        "ы",
        "о",
        "ом",
        "ем",
        "ой",
        "ей",
        "ою",
        "ею",
        "ее",
        "ея",
        "ах",
        "ях",
        "ам",
        "ям",
        "ами",
        "ями",
        "ов",
        "ев",
        "ии",
        "ию",
        "ия",
        "ого",
        "его",
        "ому",
        "ему",
        "ым",
        "им",
        "ых",
        "их",
        "ую",
        "юю",
        "ая",
        "яя",
        "ое",
        "ые",
        "ие",
    ]
) | {""}
_ENDINGS_LONGEST_FIRST = sorted(CASE_ENDINGS, key=len, reverse=True)
#: Final letters dropped from an alias to get its stem.
STEM_TRAILING = "аеиоуыэюяйь"
#: A 9-digit KATO code (Classifier of Administrative-Territorial Objects).
KATO_CODE = re.compile(r"\d{9}")
_RN = re.compile(r"(?<!\w)р\s*[-.]?\s*н(?:а|е|у|ом)?(?!\w)\.?")
_PARENS = re.compile(r"\(([^)]*)\)")


def _stem(word: str) -> str:
    from coverage_analysis.clean.vocab import stem_word

    return stem_word(word)


class DistrictResolver:
    """Resolves district names of a reference (default: the shipped East
    Kazakhstan one) to ``district_id`` or ``region``.

    ``reference``: a frame with ``district_id`` and any of the name columns; a
    user's own reference works with the aliases generated from its names (plus
    the region-level and ignorable words of the shipped alias file).
    ``aliases_path``: an alias CSV (``district_id,alias``) to use instead of the
    shipped one; ids not in the reference are skipped with a warning.

    >>> ref = pd.DataFrame({"district_id": ["north", "south"],
    ...                     "name_ru": ["Северный район", "Южный район"]})
    >>> DistrictResolver(ref).resolve("в Северном районе").value
    'north'
    """

    def __init__(
        self,
        reference: pd.DataFrame | None = None,
        aliases_path: str | os.PathLike[str] | None = None,
    ) -> None:
        from coverage_analysis.clean.vocab import normalize_text

        self._normalize = normalize_text
        frame = load_districts() if reference is None else reference
        if "district_id" not in frame.columns:
            raise ValueError("district reference lacks the column 'district_id'")
        self.district_ids: list[str] = [str(i) for i in frame["district_id"]]
        known = set(self.district_ids) | {REGION_ID}
        pairs: list[tuple[str, str]] = []
        for _, row in frame.iterrows():
            for column in NAME_COLUMNS:
                if column in frame.columns and isinstance(row[column], str) and row[column].strip():
                    name = row[column]
                    pairs.append((str(row["district_id"]), _PARENS.sub(" ", name)))
                    pairs.extend(
                        (str(row["district_id"]), inner) for inner in _PARENS.findall(name)
                    )
        file_rows = _read_aliases(aliases_path or reference_path("district_aliases.csv"))
        self._ignore: set[str] = set()
        for district_id, alias in file_rows:
            if district_id == IGNORE_ID:
                self._ignore.update(self._words(alias, ignore=False))
                self._ignore.update(_stem(w) for w in self._words(alias, ignore=False))
            elif district_id in known:
                pairs.append((district_id, alias))
            elif aliases_path is not None:  # the shipped file may name another region's ids
                _LOG.warning(
                    "district alias %r names unknown district %r; skipped", alias, district_id
                )
        self._label: dict[str, str] = {}
        self._aliases: list[tuple[str, str, str]] = []  # (id, alias as written, key)
        self._exact: dict[str, set[str]] = {}
        self._by_words: dict[tuple[str, ...], set[str]] = {}
        self._by_stem: dict[str, set[str]] = {}  # stem of a Cyrillic alias -> ids
        for district_id, alias in pairs:
            words = self._key_words(alias)
            if not words:
                continue
            key = "".join(words)
            self._label.setdefault(district_id, alias.strip())
            self._aliases.append((district_id, alias.strip(), key))
            self._exact.setdefault(key, set()).add(district_id)
            self._by_words.setdefault(words, set()).add(district_id)
            if ADJECTIVE_SUFFIX.search(key + "ий"):  # Семипалатинск -> Семипалатинский
                self._exact.setdefault(ADJECTIVE_SUFFIX.sub("", key + "ий"), set()).add(district_id)
            stem = key.rstrip(STEM_TRAILING)
            if not key.isascii() and len(stem) >= MIN_FLEX_STEM:
                self._by_stem.setdefault(stem, set()).add(district_id)
        self._multi_words = {w: ids for w, ids in self._by_words.items() if len(w) > 1}
        self._cache: dict[str, Parsed] = {}
        self._quiet: dict[str, str | None] = {}  # district_of() without a reason
        #: Two-digit KATO prefixes of the reference's own region(s).
        self.region_katos: frozenset[str] = frozenset(
            str(int(k))[:2] for k in frame.get("kato", pd.Series(dtype=object)).dropna()
        )
        self._regions: Any = None
        #: KATO code -> district id (a code is the most reliable key of official files).
        self._kato: dict[str, str] = {
            str(int(k)): str(d)
            for k, d in zip(
                frame.get("kato", pd.Series([None] * len(frame))),
                frame["district_id"],
                strict=True,
            )
            if pd.notna(k)
        }

    # ---------------------------------------------------------------- keys
    def _words(self, text: str, ignore: bool = True) -> tuple[str, ...]:
        from coverage_analysis.clean.vocab import fold_words

        normal = _RN.sub(" ", self._normalize(text))
        words = fold_words(normal)
        if ignore:
            words = tuple(
                w for w in words if w not in self._ignore and _stem(w) not in self._ignore
            )
        return words

    def _key_words(self, text: str) -> tuple[str, ...]:
        return tuple(ADJECTIVE_SUFFIX.sub("", w) for w in self._words(text))

    def _flex(self, key: str) -> set[str]:
        """Districts whose alias equals ``key`` or is its stem plus a case ending."""
        if key in self._exact:
            return set(self._exact[key])
        found: set[str] = set()
        for ending in _ENDINGS_LONGEST_FIRST:
            if key.endswith(ending):
                found |= self._by_stem.get(key[: len(key) - len(ending)], set())
        return found

    # ---------------------------------------------------------------- resolve
    def resolve(self, raw: Any) -> Parsed:
        """``Parsed(district_id | 'region', None)``, ``Parsed(None, None)`` when
        empty, else ``Parsed(None, reason)`` naming the closest candidates.

        >>> DistrictResolver().resolve("Курчумский р-н").value
        'kurchum'
        """
        from coverage_analysis.clean.vocab import Parsed, is_missing

        if is_missing(raw):
            return Parsed(None, None)
        memo = raw if isinstance(raw, str) else repr(raw)
        if memo not in self._cache:
            if len(self._cache) >= CACHE_SIZE:  # bounded memo: start afresh
                self._cache.clear()
            try:
                self._cache[memo] = self._resolve(raw)
            except Exception as exc:  # the contract: never raise
                _LOG.debug("district resolver failed on %r", raw, exc_info=True)
                self._cache[memo] = Parsed(None, f"cannot read district {raw!r}: {exc}")
        return self._cache[memo]

    def district_of(self, raw: Any) -> str | None:
        """The district id (or ``'region'``) ``raw`` names, else None: :meth:`resolve`'s
        value without building a reason (no ``closest`` search), for scanning free text
        such as sheet titles word by word.

        >>> DistrictResolver().district_of("Курчумский р-н"), DistrictResolver().district_of("отчёт")
        ('kurchum', None)
        """
        from coverage_analysis.clean.vocab import is_missing

        if is_missing(raw):
            return None
        memo = raw if isinstance(raw, str) else repr(raw)
        known = self._cache.get(memo)
        if known is not None:
            return known.value
        if memo not in self._quiet:
            if len(self._quiet) >= CACHE_SIZE:
                self._quiet.clear()
            try:
                self._quiet[memo] = self._resolve(raw, explain=False).value
            except Exception:  # the contract: never raise
                _LOG.debug("district resolver failed on %r", raw, exc_info=True)
                self._quiet[memo] = None
        return self._quiet[memo]

    def _resolve(self, raw: Any, explain: bool = True) -> Parsed:
        from coverage_analysis.clean.vocab import Parsed

        text = raw if isinstance(raw, str) else str(raw)
        shown = repr(text.strip())
        code = text.strip().removesuffix(".0")
        if KATO_CODE.fullmatch(code):
            if code in self._kato:
                return Parsed(self._kato[code], None)
            return Parsed(None, f"KATO code {code} is not a district of the reference")
        words = self._key_words(text)
        if not words:
            if self._normalize(text):
                return Parsed(None, f"no district named in {shown}")
            return Parsed(None, None)
        other = self._other_region(text)
        if other is not None:
            return Parsed(None, f"{shown} names a region ({other}), not a district")
        found = self._found(words)
        if len(found) == 1:
            return Parsed(found.pop(), None)
        if found:
            listed = ", ".join(f"{i} ({self._label.get(i, i)})" for i in sorted(found))
            return Parsed(None, f"{shown} matches {len(found)} districts: {listed}")
        closest = f"; closest: {self.closest(text)}" if explain else ""
        return Parsed(None, f"no district matches {shown}{closest}")

    def _found(self, words: tuple[str, ...]) -> set[str]:
        """Every district the key words name: the whole key, else the aliases in it."""
        found = self._flex("".join(words))
        if not found:
            found = self._contained(words)
            if len(found) > 1:
                found.discard(REGION_ID)  # a district named inside region-level words wins
        return found

    def candidates(self, raw: Any) -> set[str]:
        """The districts ``raw`` names (several when it is ambiguous; none when no name
        matches -- the *closest* names of a reject's reason are not candidates).

        >>> sorted(DistrictResolver().candidates("Аягоз/Урджар"))
        ['ayagoz', 'urzhar']
        """
        return self._found(self._key_words(raw if isinstance(raw, str) else str(raw)))

    def _other_region(self, text: str) -> str | None:
        """The English name of the region ``text`` names with a region word
        (``Абайская область``, ``Абай облысы``) when that region is not the reference's
        own (by the KATO prefix of its districts), else None."""
        from coverage_analysis.clean.vocab import fold_words
        from coverage_analysis.reference.regions import REGION_WORDS, RegionNames

        if not any(w in REGION_WORDS for w in fold_words(text)):
            return None
        if self._regions is None:
            self._regions = RegionNames()
        code = self._regions.match(text)
        if code is None or code in self.region_katos:
            return None
        return self._regions.label(code)

    def _contained(self, words: tuple[str, ...]) -> set[str]:
        """Districts whose alias occurs in ``words`` as a run of whole words
        (the last one possibly with a case ending)."""
        found: set[str] = set()
        for word in words:
            found |= self._flex(word)
        for alias_words, ids in self._multi_words.items():
            n = len(alias_words)
            for start in range(len(words) - n + 1):
                window = words[start : start + n]
                if window[:-1] == alias_words[:-1] and _word_matches(window[-1], alias_words[-1]):
                    found |= ids
        return found

    def closest(self, raw: Any, n: int = CLOSEST_COUNT) -> str:
        """The ``n`` closest districts as ``id (alias)``, by similarity of keys.

        >>> DistrictResolver().closest("Курчатовск")
        'kurchatov (Курчатов), zyryanovsk (Зыряновск), kurchum (Курчум)'
        """
        key = "".join(self._key_words(raw if isinstance(raw, str) else str(raw)))
        ranked = sorted(
            self._aliases,
            key=lambda a: (-difflib.SequenceMatcher(None, key, a[2]).ratio(), len(a[1])),
        )
        picked: dict[str, str] = {}
        for district_id, alias, _ in ranked:
            picked.setdefault(district_id, alias)
            if len(picked) >= n:
                break
        return ", ".join(f"{i} ({a})" for i, a in picked.items()) or "none"

    def aliases(self) -> pd.DataFrame:
        """Every alias with its key: columns ``district_id``, ``alias``, ``key``.

        >>> DistrictResolver().aliases().query("alias == 'УК'").district_id.item()
        'ust_kamenogorsk'
        """
        return pd.DataFrame(list(self._aliases), columns=["district_id", "alias", "key"])


def _word_matches(word: str, alias: str) -> bool:
    """``word`` is ``alias`` itself or, for a Cyrillic alias, its stem (final vowels
    dropped) plus a Russian case ending.

    >>> _word_matches("семее", "семей"), _word_matches("курчатове", "курчум")
    (True, False)
    """
    if word == alias:
        return True
    if alias.isascii():
        return False
    stem = alias.rstrip(STEM_TRAILING)
    return (
        len(stem) >= MIN_FLEX_STEM and word.startswith(stem) and word[len(stem) :] in CASE_ENDINGS
    )


def _read_aliases(path: str | os.PathLike[str]) -> list[tuple[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"district_id", "alias"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: alias file lacks columns {sorted(missing)}")
        return [
            (row["district_id"].strip(), row["alias"])
            for row in reader
            if row["district_id"] and row["alias"]
        ]
