"""Kind recognition: which input kind a sheet holds, from its headers alone.

Each column of a detected header is described by a :class:`Column`: the
field it names (``date``, ``district``, ``amount`` ...), a sub-label
(``money``, ``plan`` ...), the period it names (month columns of wide
tables) and the unit multiplier written in it. The kind is the one whose
required fields are all present and that names the most fields.

>>> from coverage_analysis.io.headers import Header, HeaderVocabulary
>>> h = Header([0], ["Дата", "Район", "Вид СМИ", "Охват"], [["Дата"], ["Район"], ["Вид СМИ"], ["Охват"]], "")
>>> kind, cols = recognize(h, HeaderVocabulary.load())
>>> kind, [c.field for c in cols]
('publications', ['date', 'district', 'channel', 'reach'])
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from coverage_analysis.io.headers import (
    KINDS,
    SUB_FIELDS,
    Header,
    HeaderVocabulary,
    PeriodHeader,
    _cell_text,
    header_key,
    header_period,
)

#: Fields a sheet must name to be of a kind ("period" = month/quarter columns or a month field).
REQUIRED: dict[str, tuple[frozenset[str], ...]] = {
    # each entry: alternatives; a kind fits when one alternative is fully present
    "publications": (frozenset({"date", "district", "channel"}),),
    "legalization": (
        frozenset({"district", "period_columns"}),
        frozenset({"district", "month", "applications"}),
        frozenset({"district", "month", "amount"}),
    ),
    "media_plan": (frozenset({"district", "channel", "period_columns"}),),
    "social_reach": (
        frozenset({"district", "platform", "month"}),
        frozenset({"district", "platform", "date"}),
    ),
    "population": (
        frozenset({"district", "population"}),
        frozenset({"district", "year_columns", "population_title"}),
    ),
}
#: Fields whose presence rules a kind out (a channel column is not DGD statistics).
EXCLUDES: dict[str, frozenset[str]] = {
    "legalization": frozenset({"channel", "platform", "date"}),
    "media_plan": frozenset({"date", "platform"}),
    "population": frozenset({"channel", "platform", "applications", "amount"}),
}


#: Sub-labels a period header cell may carry in the same cell (``I кв. 2016 факт``).
PERIOD_WORDS: tuple[str, ...] = ("plan", "fact")
#: Brackets, punctuation and linking words left when a plan/fact word is cut from a period.
_PERIOD_WORD_FILLER = re.compile(r"[()\[\],:;]|(?<!\w)за(?!\w)")


def period_and_word(
    part: object, vocab: HeaderVocabulary, kind: str
) -> tuple[PeriodHeader | None, str | None]:
    """The period a header cell names and the plan/fact word written with it, if any.

    >>> v = HeaderVocabulary.load()
    >>> [period_and_word(t, v, "media_plan")[1] for t in
    ...  ("I кв. 2016 план", "I кв. 2016 факт", "1 кв 2016 (факт)", "План I кв. 2016", "I кв. 2016")]
    ['plan', 'fact', 'fact', 'plan', None]
    >>> period_and_word("янв.16 факт", v, "media_plan")[0].start.strftime("%Y-%m")
    '2016-01'
    """
    if not _cell_text(part):
        return None, None
    word = vocab.search(kind, part, PERIOD_WORDS) if isinstance(part, str) else None
    if word is None:
        return header_period(part), None
    key = header_key(part)
    for variant in sorted(vocab.fields(kind).get(word, ()), key=len, reverse=True):
        key = re.sub(r"(?<!\w)" + re.escape(variant) + r"(?!\w)", " ", key)
    rest = " ".join(_PERIOD_WORD_FILLER.sub(" ", key).split())
    period = header_period(rest) if rest else None
    return period, (word if period is not None else None)


@dataclass
class Column:
    """One column of a recognised sheet."""

    index: int
    name: str
    field: str | None = None
    sub: str | None = None
    period: PeriodHeader | None = None


def describe_columns(header: Header, vocab: HeaderVocabulary, kind: str) -> list[Column]:
    """Field, sub-label and period of every header column, read as ``kind``."""
    cols: list[Column] = []
    for i, (name, parts) in enumerate(zip(header.names, header.parts, strict=True)):
        col = Column(i, name)
        for part in parts:
            fld = vocab.match(kind, part) if _cell_text(part) else None
            if fld is None or fld in PERIOD_WORDS:
                period, word = period_and_word(part, vocab, kind)
                if period is not None:  # "I кв. 2016 факт": the period and its plan/fact word
                    col.period = col.period or period
                    col.sub = col.sub or word
                    continue
            if fld in SUB_FIELDS:
                col.sub = col.sub or fld
            elif fld is not None:
                col.field = col.field or fld
            else:
                period = header_period(part)
                if period is not None and col.period is None:
                    col.period = period
                elif period is None and col.field is None:
                    # a header like "Сумма, тыс. тенге" or a free label: keep looking by search
                    found = vocab.search(kind, part, ("applications", "amount"))
                    if found and kind == "legalization":
                        col.field = found
        cols.append(col)
    return cols


def _present(cols: list[Column], title: str, vocab: HeaderVocabulary, kind: str) -> set[str]:
    found = {c.field for c in cols if c.field}
    found |= {c.sub for c in cols if c.sub}
    periods = [
        c
        for c in cols
        if c.period is not None
        and c.field in (None, "applications", "amount", "posts", "users_reached")
    ]
    if any(p.period.kind in ("month", "quarter") for p in periods if p.period):
        found.add("period_columns")
    if any(p.period.kind == "year" for p in periods if p.period):
        found.add("year_columns")
    if kind == "population" and vocab.search("population", title, ("population",)):
        found.add("population_title")
    return found


def recognize(header: Header, vocab: HeaderVocabulary) -> tuple[str | None, list[Column]]:
    """The kind of a sheet and its columns read as that kind (``None`` when no kind fits)."""
    best: tuple[int, str, list[Column]] | None = None
    scores: dict[str, int] = {}
    for kind in KINDS:
        cols = describe_columns(header, vocab, kind)
        found = _present(cols, header.title, vocab, kind)
        if found & EXCLUDES.get(kind, frozenset()):
            continue
        if not any(alt <= found for alt in REQUIRED[kind]):
            continue
        score = len(found - {"rownum"})
        scores[kind] = score
        if best is None or score > best[0]:
            best = (score, kind, cols)
    header.kind_scores = scores
    if best is None:
        return None, describe_columns(header, vocab, KINDS[0])
    return best[1], best[2]


def title_flag(text: str, *words: str) -> bool:
    """Whether any of ``words`` occurs in ``text`` (case- and space-insensitive).

    >>> title_flag("Сведения нарастающим итогом", "нарастающ")
    True
    """
    key = header_key(text)
    return any(header_key(w) in key for w in words)
