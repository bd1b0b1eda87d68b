"""The ``district_id`` column of ``rejects.csv``: which district a rejected row concerns.

Why: a district's report lists the rows rejected while cleaning that concern it, and an
analyst filtering ``rejects.csv`` by district should not have to parse file names. The
id is filled only where the input names a district, never guessed:

1. the ledger line's own value, when its field is the district and that value resolves
   to exactly one district (e.g. a ``cell`` line of a row whose district was read);
2. else the line's source file, when its name (folders and file stem) names exactly
   one district (district registries are named after their district, e.g.
   ``Районы/Ұлан/2015/Реестр_публикаций_Ұлан.xlsx``);

otherwise it stays empty (a region-wide file, an unknown district name such as
``Прочие``, a file naming several districts). Nothing else of the ledger changes.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

import pandas as pd

from coverage_analysis.domain import REGION_ID

#: Ledger fields that hold a district name.
DISTRICT_FIELDS: frozenset[str] = frozenset({"district", "district_id", "район"})
#: Splits a file path or name into words.
_WORDS = re.compile(r"[\s_,.;:()\[\]«»\"/\\-]+")


def _one_district(text: str, resolver: Any) -> str | None:
    """The single district ``text`` names (words and word pairs), else ``None``."""
    words = [w for w in _WORDS.split(text) if len(w) > 1 and not w.isdigit()]
    found: set[str] = set()
    for span in (2, 1):
        for i in range(len(words) - span + 1):
            district = resolver.district_of(" ".join(words[i : i + span]))
            if district not in (None, REGION_ID):
                found.add(district)
    return found.pop() if len(found) == 1 else None


def attach_district_ids(ledger: pd.DataFrame, resolver: Any) -> pd.DataFrame:
    """``ledger`` (the rejects ledger) with a ``district_id`` column after ``kind`` where
    the rejected row or its file names exactly one district (empty elsewhere).

    ``resolver``: a :class:`coverage_analysis.reference.DistrictResolver`.

    >>> from coverage_analysis.reference.districts import DistrictResolver
    >>> ledger = pd.DataFrame({
    ...     "source_file": ["Районы/Ұлан/2015/Реестр_Ұлан.xlsx", "ДГД/Свод.xlsx", "ДГД/Свод.xlsx"],
    ...     "kind": ["publications", "legalization", "legalization"],
    ...     "field": ["date", "district", "district"],
    ...     "value": ["32.13.2015", "Прочие", "Курчумский район"]})
    >>> attach_district_ids(ledger, DistrictResolver())["district_id"].tolist()
    ['ulan', None, 'kurchum']
    """
    out = ledger.copy()
    ids: list[str | None] = [None] * len(out)
    if len(out):
        by_file = (
            {
                f: _one_district(str(PurePosixPath(str(f)).with_suffix("")), resolver)
                for f in pd.unique(out["source_file"].dropna())
            }
            if "source_file" in out
            else {}
        )
        fields = out["field"].astype(object).tolist() if "field" in out else [None] * len(out)
        values = out["value"].astype(object).tolist() if "value" in out else [None] * len(out)
        files = (
            out["source_file"].astype(object).tolist()
            if "source_file" in out
            else [None] * len(out)
        )
        own_of: dict[str, str | None] = {}  # each distinct district text resolved once
        for i, (fld, value, file) in enumerate(zip(fields, values, files, strict=True)):
            own = None
            if (
                isinstance(fld, str)
                and fld.strip().lower() in DISTRICT_FIELDS
                and isinstance(value, str)
            ):
                if value not in own_of:
                    parsed = resolver.resolve(value)
                    ok = parsed.error is None and parsed.value not in (None, REGION_ID)
                    own_of[value] = parsed.value if ok else None
                own = own_of[value]
            ids[i] = own or by_file.get(file)
    position = list(out.columns).index("kind") + 1 if "kind" in out else len(out.columns)
    out.insert(position, "district_id", pd.Series(ids, index=out.index, dtype=object))
    return out
