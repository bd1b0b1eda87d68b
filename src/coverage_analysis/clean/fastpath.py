"""Fast paths of the clean step, in one place: Arrow kernels on CSV text columns
and the worker threads they run in.

Why a module of its own: a 1,000,000-row registry must clean in about twice the
time pandas takes to read it (``benchmarks/bench_clean.py``). That needs Arrow
compute kernels on the text columns (they release the GIL, so a worker thread
overlaps them with the Python-level parsing) and a few byte-level shortcuts that
skip a kernel when it would change nothing. Each of these has a plain
single-thread meaning, stated in its docstring, and ``tests/test_fastpath.py``
checks the results against that reference on random text (nulls, ``ё``,
whitespace, non-ASCII, empty strings). The rest of ``clean/`` only calls these
functions; it never reaches into pandas' private attributes: Arrow data is taken
through the public ``__arrow_array__`` protocol and given back with ``pd.array``.

>>> s = pd.Series([" Аягоз ", "", None], dtype="string[pyarrow]")
>>> kept_text(s, np.array([True, True, False]), every=False).tolist()
['Аягоз', <NA>]
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: Worker threads shared by every fast path (the Arrow kernels they run release the GIL).
WORKERS = 2
#: Whitespace that needs collapsing (two spaces, tabs, line breaks, no-break spaces).
ODD_SPACE = "\\s\\s|[\\t\\n\\r\u00a0]"
#: Bytes without which ``ё`` cannot occur in lower-cased text (its last byte; rare in
#: lower-case Cyrillic, found by ``memchr`` where a two-byte search crawls).
YO_BYTES: tuple[bytes, ...] = (b"\x91",)
#: Bytes without which :data:`ODD_SPACE` cannot match (``\s`` is ``[\t\n\f\r ]``; the
#: no-break space ends in 0xA0), single bytes first.
ODD_SPACE_BYTES: tuple[bytes, ...] = (b"\t", b"\n", b"\r", b"\x0c", b"\xa0", b"  ")
#: Bytes that may begin a whitespace character (ASCII controls and space; lead bytes
#: of U+0085, U+00A0, U+1680, U+180E, U+2000-U+205F, U+3000).
SPACE_FIRST = np.array([*range(0x21), 0xC2, 0xE1, 0xE2, 0xE3], dtype=np.uint8)
#: Second-to-last byte of a multi-byte whitespace character.
SPACE_PREV = np.array([0xC2, 0x9A, 0x80, 0x81, 0xA0], dtype=np.uint8)
#: Bytes of a data buffer looked at per step by :func:`contains` (bounds its temporaries).
SCAN_BYTES = 1 << 23
#: A column with fewer distinct values than this share of a sample is normalised per value.
FEW_DISTINCT = 0.2
#: Rows looked at to decide whether a column has few distinct values.
DISTINCT_SAMPLE = 20_000
#: URL prefix dropped before comparing (scheme and ``www.``).
URL_PREFIX = r"^(?:[a-z][a-z0-9+.-]*://)?(?:www\.)?"
#: Schemes that :func:`drop_url_prefix` slices off when every URL of a column has one.
URL_SCHEMES: tuple[str, ...] = ("https://", "http://")

#: Python's ``\\s`` (``str.isspace``) and ``\\d`` (Unicode decimal digits) spelled for
#: RE2, Arrow's regex engine (whose own ``\\s`` and ``\\d`` are ASCII only).
RE2_CLASSES: dict[str, str] = {
    r"\s": r"[\t\n\x0b\x0c\r\x1c-\x1f\x{85}\p{Z}]",
    r"\d": r"\p{Nd}",
}

_pool: ThreadPoolExecutor | None = None


def submit(fn: Callable[..., object], *args: object, **kwargs: object) -> Future:
    """Run ``fn(*args, **kwargs)`` in a worker thread (a shared pool of :data:`WORKERS`).

    No task submitted here waits for another one, so the small pool cannot deadlock.

    >>> submit(sum, [1, 2]).result()
    3
    """
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="clean-fastpath")
    return _pool.submit(fn, *args, **kwargs)


def is_arrow_string(values: pd.Series) -> bool:
    """Whether ``values`` is an Arrow-backed string column (CSV cells).

    >>> is_arrow_string(pd.Series(["a"], dtype="string[pyarrow]")), is_arrow_string(pd.Series(["a"], dtype=object))
    (True, False)
    """
    dtype = values.dtype
    return isinstance(dtype, pd.StringDtype) and str(dtype.storage).startswith("pyarrow")


def arrow_strings(values: pd.Series) -> pa.ChunkedArray:
    """The cells of an Arrow string column as Arrow data (the column's own buffers,
    through the public ``__arrow_array__`` protocol), else converted.

    >>> arrow_strings(pd.Series(["a", None], dtype=object)).to_pylist()
    ['a', None]
    """
    if is_arrow_string(values):
        arr = values.array.__arrow_array__()
        return arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])
    return pa.chunked_array([pa.array(values, type=pa.string(), from_pandas=True)])


def as_pandas(arr: pa.Array | pa.ChunkedArray, dtype: object) -> pd.api.extensions.ExtensionArray:
    """Arrow strings back as a pandas array of ``dtype`` (a pyarrow ``StringDtype``)."""
    return pd.array(arr, dtype=dtype)


def filter_strings(values: pd.Series, keep: pa.BooleanArray) -> pd.api.extensions.ExtensionArray:
    """``values[keep]`` of an Arrow string column, filtered by Arrow (no GIL, no objects).

    >>> filter_strings(pd.Series(["a", "b"], dtype="string[pyarrow]"), pa.array([False, True])).tolist()
    ['b']
    """
    return as_pandas(arrow_strings(values).filter(keep), values.dtype)


def factorize_ahead(frame: pd.DataFrame, labels: Iterable[object]) -> dict[object, Future]:
    """Pending ``pd.factorize(frame[c], use_na_sentinel=True)`` of the Arrow string
    columns among ``labels`` (others are left out), begun in worker threads while
    the caller does other work."""
    ahead: dict[object, Future] = {}
    for c in labels:
        if c is not None and c not in ahead and is_arrow_string(frame[c]):
            ahead[c] = submit(pd.factorize, frame[c], use_na_sentinel=True)
    return ahead


def may_need_trim(arr: pa.Array | pa.ChunkedArray) -> bool:
    """False only when no string of ``arr`` (Arrow strings) can begin or end with
    whitespace: a look at the first and last bytes, no string is copied. (A true
    answer may be wrong; a false one never is.)

    >>> may_need_trim(pa.chunked_array([["a b", "Аягоз"]])), may_need_trim(pa.array(["a", "b\u00a0"]))
    (False, True)
    """
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    for chunk in chunks:
        if len(chunk) == 0:
            continue
        if chunk.type == pa.large_string():
            width = np.int64
        elif chunk.type == pa.string():
            width = np.int32
        else:
            return True
        _, offsets, data = chunk.buffers()
        if data is None:
            continue
        off = np.frombuffer(offsets, dtype=width)[chunk.offset : chunk.offset + len(chunk) + 1]
        starts, ends = off[:-1], off[1:]
        filled = ends > starts
        starts, ends = starts[filled], ends[filled]
        raw = np.frombuffer(data, dtype=np.uint8)
        if np.isin(raw[starts], SPACE_FIRST).any() or (raw[ends - 1] <= 0x20).any():
            return True
        ends = ends[ends - starts >= 2]
        if np.isin(raw[ends - 2], SPACE_PREV).any():
            return True
    return False


def contains(arr: pa.Array | pa.ChunkedArray, needles: tuple[bytes, ...]) -> bool:
    """Whether any of ``needles`` may occur in ``arr`` (Arrow strings): a byte
    search of its data buffers (which may hold more than the array: never a false no).
    The buffers are compared in place (numpy views, :data:`SCAN_BYTES` at a time, no
    copy); a two-byte needle as a pair of neighbouring bytes (Python's ``bytes``
    search crawls on a two-byte needle whose first byte, a space, is frequent).

    >>> contains(pa.array(["a b", "c"]), (b"  ", b"\\t")), contains(pa.array(["a  b"]), (b"  ",))
    (False, True)
    """
    singles = [n[0] for n in needles if len(n) == 1]
    pairs = [n for n in needles if len(n) == 2]
    longer = [n for n in needles if len(n) > 2]
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    for chunk in chunks:
        if not pa.types.is_string(chunk.type) and not pa.types.is_large_string(chunk.type):
            return True
        data = chunk.buffers()[2]
        if data is None:
            continue
        raw = np.frombuffer(data, dtype=np.uint8)
        for start in range(0, len(raw), SCAN_BYTES):
            part = raw[start : start + SCAN_BYTES + 1]  # (one byte more: a pair across the cut)
            if any((part == b).any() for b in singles):
                return True
            if any(((part[:-1] == a) & (part[1:] == b)).any() for a, b in pairs):
                return True
        if longer and any(n in data.to_pybytes() for n in longer):
            return True
    return False


def kept_text(values: pd.Series, keep: np.ndarray, every: bool) -> object:
    """The kept rows' cells as stripped text, missing when empty. Plain meaning:
    ``values[keep].str.strip()`` with ``""`` made missing. Arrow columns are
    filtered first (less to strip) and a kernel that would change nothing is
    skipped; other columns go through :func:`~coverage_analysis.clean.common.text_array`."""
    from coverage_analysis.clean.common import text_array

    if not is_arrow_string(values):
        return text_array(values if every else values[keep])
    arr = arrow_strings(values)
    if not every:
        arr = arr.filter(pa.array(keep))
    if may_need_trim(arr):
        arr = pc.utf8_trim_whitespace(arr)
    blank = pc.equal(pc.binary_length(arr), 0)
    if arr.null_count or pc.any(blank).as_py():
        arr = pc.if_else(blank, None, arr)
    return as_pandas(arr, values.dtype)


def norm_text(arr: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Lower-case, ``ё``→``е``, runs of ``[\\t\\n\\f\\r ]`` collapsed to one space
    and trimmed (Arrow strings); a kernel that would change nothing is skipped.

    >>> norm_text(pa.array([" Ёлка  Аягоз\\t", None])).to_pylist()
    ['елка аягоз', None]
    """
    arr = pc.utf8_lower(arr)
    if contains(arr, YO_BYTES + ODD_SPACE_BYTES):  # one look at the text: usually neither
        if contains(arr, YO_BYTES):
            arr = pc.replace_substring(arr, "ё", "е")
        if (
            contains(arr, ODD_SPACE_BYTES)
            and pc.any(pc.match_substring_regex(arr, ODD_SPACE)).as_py()
        ):
            arr = pc.replace_substring_regex(arr, r"\s+", " ")
    return pc.utf8_trim_whitespace(arr) if may_need_trim(arr) else arr


def norm_url(arr: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """:func:`norm_text`, then without scheme, ``www.`` and trailing slashes.

    >>> norm_url(pa.array(["HTTPS://www.A.kz/1/", "a.kz/1"])).to_pylist()
    ['a.kz/1', 'a.kz/1']
    """
    arr = drop_url_prefix(norm_text(arr))
    if pc.any(pc.ends_with(arr, "/")).as_py():
        arr = pc.utf8_rtrim(arr, characters="/")
    return arr


def drop_url_prefix(arr: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """``arr`` (lower-cased URLs) without what :data:`URL_PREFIX` matches at the start.
    When every URL begins with the same scheme of :data:`URL_SCHEMES` (a registry's links
    usually do), it is sliced off, and ``www.`` after it only where some URL has one: the
    regex kernel, which copies every string through RE2, runs only on other columns.

    >>> drop_url_prefix(pa.array(["https://a.kz/1", "https://www.a.kz/2", None])).to_pylist()
    ['a.kz/1', 'a.kz/2', None]
    >>> drop_url_prefix(pa.array(["https://a.kz/1", "ftp://a.kz/2", "www.a.kz"])).to_pylist()
    ['a.kz/1', 'a.kz/2', 'a.kz']
    """
    for scheme in URL_SCHEMES:
        if pc.all(pc.starts_with(arr, scheme)).as_py() is not False:  # (None: no URL at all)
            arr = pc.utf8_slice_codeunits(arr, len(scheme))
            if pc.any(pc.starts_with(arr, "www.")).as_py():
                arr = pc.replace_substring_regex(arr, r"^www\.", "")
            return arr
    return pc.replace_substring_regex(arr, URL_PREFIX, "")


def text_codes(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An integer code per distinct text (-1 for missing or empty); only equal codes
    mean anything, not their order.

    >>> text_codes(pa.array(["a", "", None, "b", "a"])).tolist()
    [0, -1, -1, 2, 0]
    """
    dictionary, codes = _encoded(arr)
    empty = pc.index(dictionary, "").as_py() if dictionary is not None else -1
    if empty >= 0:
        codes[codes == empty] = -1
    return codes


def _encoded(arr: pa.Array | pa.ChunkedArray) -> tuple[pa.Array | None, np.ndarray]:
    """The dictionary of ``arr.dictionary_encode()`` and each row's index in it (-1 for
    missing). Arrow encodes a chunked array with one hash table and gives every chunk
    the same dictionary, so the text is not first copied into one chunk (a
    10,000,000-row title column is about 700 MB); should the chunks' dictionaries ever
    differ, the chunks are combined and encoded again.

    >>> d, codes = _encoded(pa.chunked_array([["a", "b"], [None, "b", "c"]]))
    >>> d.to_pylist(), codes.tolist()
    (['a', 'b', 'c'], [0, 1, -1, 1, 2])
    """
    if isinstance(arr, pa.ChunkedArray):
        chunks = arr.dictionary_encode().chunks
        if not chunks:
            return None, np.zeros(0, dtype=np.int64)
        if any(not _same_buffers(c.dictionary, chunks[0].dictionary) for c in chunks[1:]):
            chunks = [arr.combine_chunks().dictionary_encode()]
    else:
        chunks = [arr.dictionary_encode()]
    codes = [
        pc.fill_null(c.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64) for c in chunks
    ]
    return chunks[0].dictionary, np.concatenate(codes)


def _same_buffers(a: pa.Array, b: pa.Array) -> bool:
    """Whether two arrays are views of the same memory (no value is compared)."""
    if len(a) != len(b) or a.offset != b.offset:
        return False
    return all(
        (x is None and y is None) or (x is not None and y is not None and x.address == y.address)
        for x, y in zip(a.buffers(), b.buffers(), strict=True)
    )


def norm_codes(values: pd.Series, norm: Callable[[pa.ChunkedArray], object]) -> np.ndarray:
    """``text_codes(norm(values))``; a column of few distinct values (outlets) is
    normalised once per distinct value."""
    arr = arrow_strings(values)
    head = arr.slice(0, DISTINCT_SAMPLE)
    if len(arr) > DISTINCT_SAMPLE and pc.count_distinct(head).as_py() < FEW_DISTINCT * len(head):
        dictionary, codes = _encoded(arr)
        return np.append(text_codes(norm(dictionary)), -1)[codes]
    return text_codes(norm(arr))


def filter_frame(
    frame: pd.DataFrame, mask: np.ndarray, labels: pd.Index, every: bool
) -> dict[object, object]:
    """The columns ``labels`` of ``frame`` at the rows of ``mask``, as arrays: Arrow
    string columns are filtered by Arrow in a worker thread (much faster than a
    pandas take) while numpy takes the other columns, each keeping its dtype. Plain
    meaning: ``{c: frame[c][mask].reset_index(drop=True) for c in labels}``."""
    keep = None if every else pa.array(mask)
    out: dict[object, object] = {}
    for c in labels:
        s = frame[c]
        if isinstance(s.dtype, pd.api.extensions.ExtensionDtype):
            if every:
                out[c] = s.array
            elif is_arrow_string(s):
                out[c] = submit(filter_strings, s, keep)
            else:
                out[c] = s.array[mask]
        else:  # a Series keeps an object column object (pandas 3 would infer ``str``)
            values = s.to_numpy() if every else s.to_numpy()[mask]
            out[c] = pd.Series(values, dtype=s.dtype, copy=False)
    return {c: v.result() if isinstance(v, Future) else v for c, v in out.items()}


def re2_pattern(pattern: str) -> str:
    """An anchored RE2 pattern matching what Python's ``re.fullmatch(pattern, s)`` matches,
    for simple patterns (``\\s`` and ``\\d`` made Unicode as in Python; no other escape
    classes, look-arounds or back-references).

    >>> print(re2_pattern(r"\\d+"))
    ^(?:\\p{Nd}+)$
    """
    body = re.sub(r"\\[sd]", lambda m: RE2_CLASSES[m.group(0)], pattern)
    return f"^(?:{body})$"


def fullmatch(
    values: pd.Series,
    pattern: str,
    surely: Callable[[pa.ChunkedArray], pa.ChunkedArray] | None = None,
) -> np.ndarray:
    """``values.str.fullmatch(pattern)`` as a boolean array (missing cells: False). An
    Arrow string column is matched by Arrow's regex kernel (:func:`re2_pattern`) rather
    than pandas' per-row Python fallback; other columns as text, per distinct value.
    ``surely``: a cheaper Arrow kernel true only of cells that match (``pc.ascii_is_decimal``
    for a row-number pattern): the regex runs only on the other cells.

    >>> fullmatch(pd.Series([" 12. ", "1x", None], dtype="string[pyarrow]"), r"\\s*\\d+\\.?\\s*").tolist()
    [True, False, False]
    >>> fullmatch(pd.Series([" 12. ", "1x", "7"], dtype="string[pyarrow]"), r"\\s*\\d+\\.?\\s*", pc.ascii_is_decimal).tolist()
    [True, False, True]
    """
    if is_arrow_string(values):
        arr = arrow_strings(values)
        if surely is None:
            found = pc.match_substring_regex(arr, re2_pattern(pattern))
            return pc.fill_null(found, False).to_numpy(zero_copy_only=False)
        out = pc.fill_null(surely(arr), False).to_numpy(zero_copy_only=False)
        rest = ~out
        if rest.any():
            found = pc.match_substring_regex(arr.filter(pa.array(rest)), re2_pattern(pattern))
            out[rest] = pc.fill_null(found, False).to_numpy(zero_copy_only=False)
        return out
    codes, uniques = pd.factorize(values.astype(str), use_na_sentinel=True)
    compiled = re.compile(pattern)
    flags = np.array([compiled.fullmatch(u) is not None for u in uniques] + [False], dtype=bool)
    return flags[codes]


@functools.cache
def inferred_text_dtype() -> object:
    """The dtype pandas gives a column built from Python strings: ``str`` (Arrow-backed)
    on pandas 3, ``object`` on pandas 2.

    >>> str(inferred_text_dtype()) in ("object", "str")
    True
    """
    return pd.Series(np.array(["a", None], dtype=object)).dtype


#: Arrow type of the low-cardinality text columns of records held during a run
#: (district, channel, language, format, source file and sheet): one small dictionary
#: and a 4-byte index per row, where a string column costs its text on every row.
DICTIONARY_TEXT = pa.dictionary(pa.int32(), pa.large_string())


def dictionary_text(uniques: np.ndarray, codes: np.ndarray) -> object:
    """``uniques[codes]`` (an object array of strings or None) as an Arrow dictionary
    column (:data:`DICTIONARY_TEXT`): no string is copied per row. Values that are not
    all text (numbers) come back as the object array ``uniques[codes]``.
    :func:`plain_text` turns the column into the one pandas builds from strings.

    >>> d = dictionary_text(np.array(["a", None, "a"], dtype=object), np.array([-1, 0, 1, 2]))
    >>> str(d.dtype), [v if isinstance(v, str) else None for v in plain_text(pd.Series(d))]
    ('dictionary<values=large_string, indices=int32, ordered=0>[pyarrow]', ['a', 'a', None, 'a'])
    """
    if not all(u is None or isinstance(u, str) for u in uniques):
        return uniques[codes]
    value_codes, values = pd.factorize(uniques, use_na_sentinel=True)  # unique, no None
    indices = value_codes[codes].astype(np.int32)  # (code -1: the last entry; index -1: None)
    arr = pa.DictionaryArray.from_arrays(
        pa.array(indices, mask=indices < 0),
        pa.array(np.asarray(values, dtype=object), type=pa.large_string()),
    )
    return pd.array(arr, dtype=pd.ArrowDtype(DICTIONARY_TEXT))


def constant_text(value: str, n: int) -> object:
    """``n`` times ``value`` as a :data:`DICTIONARY_TEXT` column (a source file name).

    >>> list(constant_text("a.csv", 2))
    ['a.csv', 'a.csv']
    """
    arr = pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(n, dtype=np.int32)), pa.array([value], type=pa.large_string())
    )
    return pd.array(arr, dtype=pd.ArrowDtype(DICTIONARY_TEXT))


def plain_text(values: pd.Series) -> object:
    """A text column as pandas builds one from Python strings (None for missing): the
    Arrow ``str`` column on pandas 3, an object array on pandas 2; a
    :data:`DICTIONARY_TEXT` column is decoded by Arrow."""
    dtype = inferred_text_dtype()
    if isinstance(values.dtype, pd.ArrowDtype) and values.dtype.pyarrow_dtype == DICTIONARY_TEXT:
        arr = values.array.__arrow_array__()  # public: the column's own Arrow data
        if dtype != np.dtype(object):
            return pd.array(arr.cast(pa.large_string()), dtype=dtype)
        return np.asarray(values.to_numpy(dtype=object, na_value=None), dtype=object)
    if values.dtype == dtype and dtype != np.dtype(object):
        return values.array
    return values.to_numpy(dtype=object)
