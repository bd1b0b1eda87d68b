"""The fast paths of ``clean/fastpath.py`` against plain single-thread Python references,
on random text: missing cells, empty strings, ``ё``/``Ё``, runs of whitespace (tabs,
line breaks, no-break spaces), Kazakh and other non-ASCII letters, URLs."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from coverage_analysis.clean import duplicates, fastpath
from coverage_analysis.clean.common import filter_rows
from coverage_analysis.clean.duplicates import publication_duplicates

#: Characters the random strings are made of (whitespace that Python and Arrow agree on).
ALPHABET = list("aZw.:/hs1 Ёёеея Аягоз ӘәҚқӨө\t\n\r\x0c\xa0")
#: URL beginnings mixed into the random text.
PREFIXES = ["", "http://", "https://www.", "HTTP://WWW.", "www."]
SEEDS = [0, 1, 2]


def random_texts(rng: np.random.Generator, n: int, distinct: int | None = None) -> list:
    """``n`` random cells (None and "" included); with ``distinct``, drawn from that many."""
    pool_size = distinct or n

    def one() -> str | None:
        r = rng.random()
        if r < 0.08:
            return None
        if r < 0.14:
            return ""
        body = "".join(rng.choice(ALPHABET, size=int(rng.integers(0, 9))))
        return str(rng.choice(PREFIXES)) + body + ("/" * int(rng.integers(0, 3)))

    pool = [one() for _ in range(pool_size)]
    return [pool[i] for i in rng.integers(0, pool_size, n)]


def arrow_series(values: list) -> pd.Series:
    return pd.Series(values, dtype="string[pyarrow]")


def ref_norm_text(s: str | None) -> str | None:
    """Lower-case, ё as е, runs of [\\t\\n\\f\\r ] as one space, trimmed."""
    if s is None or s is pd.NA:
        return None
    return re.sub(r"[\t\n\x0c\r ]+", " ", s.lower().replace("ё", "е")).strip()


def ref_norm_url(s: str | None) -> str | None:
    t = ref_norm_text(s)
    return None if t is None else re.sub(r"^(?:[a-z][a-z0-9+.-]*://)?(?:www\.)?", "", t).rstrip("/")


def same_partition(codes: np.ndarray, keys: list) -> None:
    """``codes`` group rows exactly as ``keys`` do; -1 exactly where the key is None or ""."""
    assert len(codes) == len(keys)
    missing = np.array([k is None or k == "" for k in keys])
    assert ((codes == -1) == missing).all()
    by_code: dict[int, object] = {}
    by_key: dict[object, int] = {}
    for c, k in zip(codes.tolist(), keys, strict=True):
        if c == -1:
            continue
        assert by_code.setdefault(c, k) == k
        assert by_key.setdefault(k, c) == c


@pytest.mark.parametrize("seed", SEEDS)
def test__norm_text_and_norm_url__match_plain_python(seed: int) -> None:
    values = random_texts(np.random.default_rng(seed), 3000)
    arr = pa.array(values, type=pa.string())
    assert fastpath.norm_text(arr).to_pylist() == [ref_norm_text(v) for v in values]
    assert fastpath.norm_url(arr).to_pylist() == [ref_norm_url(v) for v in values]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("scheme", ["https://", "HTTP://WWW.", "http://www."])
def test__norm_url__on_urls_that_all_share_a_scheme_matches_plain_python(
    seed: int, scheme: str
) -> None:
    # every URL with the same scheme: the prefix is sliced off instead of matched by a regex
    values = [
        None if v is None else scheme + v for v in random_texts(np.random.default_rng(seed), 3000)
    ]
    values[:3] = [scheme, scheme + "www.", scheme + "www.www.a/"]
    arr = pa.array(values, type=pa.string())
    assert fastpath.norm_url(arr).to_pylist() == [ref_norm_url(v) for v in values]
    chunked = pa.chunked_array([arr.slice(0, 1000), arr.slice(1000)])
    assert fastpath.norm_url(chunked).to_pylist() == [ref_norm_url(v) for v in values]


def test__norm_text__skips_nothing_it_needs_on_plain_text() -> None:
    values = ["Аягоз", "семей", None, "", "a b"]
    assert fastpath.norm_text(pa.array(values)).to_pylist() == [ref_norm_text(v) for v in values]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("distinct", [None, 40])
def test__norm_codes__groups_rows_as_the_normalised_text_does(seed: int, distinct: int) -> None:
    n = fastpath.DISTINCT_SAMPLE + 5000  # past the sample: both branches are taken
    values = random_texts(np.random.default_rng(seed), n, distinct)
    for norm, ref in ((fastpath.norm_text, ref_norm_text), (fastpath.norm_url, ref_norm_url)):
        codes = fastpath.norm_codes(arrow_series(values), norm)
        same_partition(codes, [ref(v) for v in values])
    # an object column (xlsx cells) gives the same grouping
    codes = fastpath.norm_codes(pd.Series(values, dtype=object), fastpath.norm_text)
    same_partition(codes, [ref_norm_text(v) for v in values])


def test__text_codes__empty_and_missing_are_minus_one() -> None:
    values = ["a", "", None, "b", "a", "Ё"]
    same_partition(fastpath.text_codes(pa.chunked_array([values[:3], values[3:]])), values)


@pytest.mark.parametrize("seed", SEEDS)
def test__text_codes__of_many_chunks_group_as_the_texts_do(seed: int) -> None:
    # a chunked column is encoded chunk by chunk against one dictionary (no combined copy)
    rng = np.random.default_rng(seed)
    values = random_texts(rng, 5000, distinct=300)
    cuts = sorted(int(c) for c in rng.integers(0, len(values), 6))
    bounds = [0, *cuts, len(values)]
    chunks = [values[a:b] for a, b in itertools.pairwise(bounds)]
    same_partition(fastpath.text_codes(pa.chunked_array(chunks, type=pa.large_string())), values)
    assert len(fastpath.text_codes(pa.chunked_array([], type=pa.string()))) == 0


@pytest.mark.parametrize("seed", SEEDS)
def test__contains__equals_a_byte_search_and_never_misses_in_a_slice(seed: int) -> None:
    rng = np.random.default_rng(seed)
    needles = fastpath.YO_BYTES + fastpath.ODD_SPACE_BYTES
    for _ in range(200):
        values = random_texts(rng, int(rng.integers(0, 6)))
        data = b"".join(v.encode() for v in values if v)
        expected = any(n in data for n in needles)
        assert fastpath.contains(pa.array(values, type=pa.string()), needles) == expected
        sliced = pa.array(["\t", *values, "\xa0"], type=pa.string()).slice(1, len(values))
        if expected:
            assert fastpath.contains(sliced, needles)


@pytest.mark.parametrize("seed", SEEDS)
def test__may_need_trim__is_never_a_false_no(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(300):
        values = random_texts(rng, int(rng.integers(0, 6)))
        needed = any(v is not None and v != v.strip() for v in values)
        arr = pa.chunked_array([values], type=pa.string())
        if needed:
            assert fastpath.may_need_trim(arr)
    assert not fastpath.may_need_trim(pa.array(["Аягоз", "a b", None, ""]))


@pytest.mark.parametrize("seed", SEEDS)
def test__kept_text__is_strip_of_the_kept_rows_with_empty_missing(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = random_texts(rng, 2000)
    for keep in (rng.random(len(values)) < 0.7, np.ones(len(values), dtype=bool)):
        every = bool(keep.all())
        expected = [
            None if v is None or not v.strip() else v.strip()
            for v, k in zip(values, keep, strict=True)
            if k
        ]
        for series in (arrow_series(values), pd.Series(values, dtype=object)):
            got = [None if pd.isna(x) else x for x in fastpath.kept_text(series, keep, every)]
            assert got == expected
        assert fastpath.kept_text(arrow_series(values), keep, every).dtype == "string[pyarrow]"


@pytest.mark.parametrize("seed", SEEDS)
def test__filter_rows__equals_a_boolean_take(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 1500
    frame = pd.DataFrame(
        {
            0: arrow_series(random_texts(rng, n)),
            1: pd.Series(random_texts(rng, n), dtype=object),
            2: rng.integers(0, 9, n),
            3: pd.array(rng.integers(0, 9, n), dtype="Int64"),
        }
    )
    for mask in (rng.random(n) < 0.5, np.zeros(n, dtype=bool), np.ones(n, dtype=bool)):
        pd.testing.assert_frame_equal(filter_rows(frame, mask), frame[mask].reset_index(drop=True))
        pd.testing.assert_frame_equal(
            filter_rows(frame, mask, [0, 2]), frame.loc[mask, [0, 2]].reset_index(drop=True)
        )


@pytest.mark.parametrize("seed", SEEDS)
def test__factorize_ahead__equals_pd_factorize_and_skips_object_columns(seed: int) -> None:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            0: arrow_series(random_texts(rng, 3000, 50)),
            1: arrow_series(random_texts(rng, 3000)),
            2: pd.Series(random_texts(rng, 3000), dtype=object),
        }
    )
    ahead = fastpath.factorize_ahead(frame, [0, None, 1, 2, 0])
    assert sorted(ahead) == [0, 1]
    for c, future in ahead.items():
        codes, uniques = future.result()
        ref_codes, ref_uniques = pd.factorize(frame[c], use_na_sentinel=True)
        assert codes.tolist() == ref_codes.tolist()
        assert list(uniques) == list(ref_uniques)


def test__arrow_strings__shares_the_column_buffers_and_converts_others() -> None:
    s = arrow_series(["Ёлка", None, ""])
    arr = fastpath.arrow_strings(s)
    assert arr.to_pylist() == ["Ёлка", None, ""]
    assert fastpath.arrow_strings(pd.Series(["a", None], dtype=object)).to_pylist() == ["a", None]
    assert fastpath.is_arrow_string(s)
    assert not fastpath.is_arrow_string(pd.Series(["a"], dtype=object))


def ref_publication_duplicates(records: pd.DataFrame) -> tuple[list[bool], list[int]]:
    """Row by row: a later row with the URL, or the outlet + title + date, of an earlier one."""
    n = len(records)
    dup, first_of = [False] * n, [-1] * n
    when = [
        d if pd.notna(d) else (m if pd.notna(m) else None)
        for d, m in zip(records["date"], records["month"], strict=True)
    ]

    def url_key(i: int) -> object:
        return ref_norm_url(records["url"].iat[i]) or None

    def title_key(i: int) -> object:
        title = ref_norm_text(records["title"].iat[i])
        if not title:
            return None
        return (ref_norm_text(records["outlet"].iat[i]) or "", title, when[i])

    for key in (url_key, title_key):
        seen: dict[object, int] = {}
        for i in range(n):
            k = key(i)
            if k is None:
                continue
            if k in seen:
                if not dup[i]:
                    dup[i], first_of[i] = True, seen[k]
            else:
                seen[k] = i
    return dup, [f for f in first_of if f >= 0]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("side_by_side", [True, False])
def test__publication_duplicates__match_a_row_by_row_reference(
    seed: int, side_by_side: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (a national registry hashes its URL and title keys one after the other: same result)
    if not side_by_side:
        monkeypatch.setattr(duplicates, "LARGE_ROWS", 0)
    rng = np.random.default_rng(seed)
    n = 4000
    days = pd.to_datetime("2016-01-01") + pd.to_timedelta(rng.integers(0, 5, n), unit="D")
    records = pd.DataFrame(
        {
            "url": arrow_series(random_texts(rng, n, 300)),
            "outlet": arrow_series(random_texts(rng, n, 5)),
            "title": arrow_series(random_texts(rng, n, 200)),
            "date": pd.Series(days).where(rng.random(n) < 0.8),
            "month": pd.Series(days.to_period("M").to_timestamp()),
            "source_file": "f.csv",
            "source_sheet": "",
            "source_row": np.arange(n) + 2,
        }
    )
    mask, pairs = publication_duplicates(records)
    dup, firsts = ref_publication_duplicates(records)
    assert mask.tolist() == dup
    assert pairs["kept_row"].tolist() == [f + 2 for f in firsts]
    assert mask.sum() > 0


def test__clean_package__uses_no_private_pandas_attribute() -> None:
    clean_dir = Path(fastpath.__file__).parent
    offenders = [p.name for p in clean_dir.glob("*.py") if "._pa_array" in p.read_text("utf-8")]
    assert offenders == []


#: Row-number-like cells: digits of other scripts, Unicode spaces, dots and brackets.
NUMBERISH = [
    "12",
    " 7. ",
    "3)",
    "4.0",
    "5.0.",
    "٣",
    "１２",
    "\u20031\u2003",
    "1\x85",
    "12a",
    "",
    " ",
]


@pytest.mark.parametrize("seed", SEEDS)
def test__fullmatch__same_as_python_re(seed: int) -> None:
    from coverage_analysis.clean.rows import ROW_NUMBER

    rng = np.random.default_rng(seed)
    cells = random_texts(rng, 400) + NUMBERISH + [str(i) for i in rng.integers(0, 10**6, 50)]
    rng.shuffle(cells)
    expected = [c is not None and re.fullmatch(ROW_NUMBER, c) is not None for c in cells]
    assert fastpath.fullmatch(arrow_series(cells), ROW_NUMBER).tolist() == expected
    # ASCII digits surely match: the regex runs on the other cells only
    assert (
        fastpath.fullmatch(arrow_series(cells), ROW_NUMBER, pc.ascii_is_decimal).tolist()
        == expected
    )
    objects = pd.Series(cells, dtype=object)
    assert fastpath.fullmatch(objects, ROW_NUMBER).tolist() == expected


@pytest.mark.parametrize("seed", SEEDS)
def test__dictionary_text__decodes_to_what_pandas_builds_from_the_strings(seed: int) -> None:
    rng = np.random.default_rng(seed)
    uniques = np.array([*random_texts(rng, 30), None], dtype=object)
    codes = rng.integers(-1, len(uniques) - 1, 500)
    held = pd.Series(fastpath.dictionary_text(uniques, codes))
    assert held.dtype == pd.ArrowDtype(fastpath.DICTIONARY_TEXT)
    out = pd.Series(fastpath.plain_text(held))
    expected = pd.Series(uniques[codes])  # what pandas builds from the object array
    pd.testing.assert_series_equal(out, expected)
    numbers = np.array([1500, None], dtype=object)  # not text: left as objects
    assert fastpath.dictionary_text(numbers, np.array([0, -1])).tolist() == [1500, None]
