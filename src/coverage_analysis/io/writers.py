"""Atomic writers: a table is written to a temporary file in the target
folder and moved into place with ``os.replace``, so a reader never sees a
half-written file and a failed run leaves the previous file intact.

>>> import tempfile, pathlib, pandas as pd
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> write_parquet(pd.DataFrame({"a": [1]}), d / "t.parquet").name
't.parquet'
>>> sorted(p.name for p in d.iterdir())
['t.parquet']
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path``; moved onto ``path`` when the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _write(path: Path, write: Callable[[Path], None]) -> Path:
    with atomic_path(path) as tmp:
        write(tmp)
    return path


def write_parquet(
    frame: pd.DataFrame, path: str | os.PathLike[str], metadata: dict[bytes, bytes] | None = None
) -> Path:
    """Write ``frame`` as Parquet (no index), atomically; ``metadata`` is added to the
    key-value metadata."""
    if not metadata:
        return _write(Path(path), lambda tmp: frame.to_parquet(tmp, index=False, engine="pyarrow"))
    import pyarrow as pa

    return write_arrow_table(pa.Table.from_pandas(frame, preserve_index=False), path, metadata)


def write_table(
    frame: pd.DataFrame, path: str | os.PathLike[str], date_columns: tuple[str, ...] = ()
) -> Path:
    """Write ``frame`` as Parquet with ``date_columns`` stored as dates (``date32``), atomically.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "d.parquet"
    >>> _ = write_table(pd.DataFrame({"month": pd.to_datetime(["2016-01-01"])}), p, ("month",))
    >>> import pyarrow.parquet as pq; str(pq.read_schema(p).field("month").type)
    'date32[day]'
    """
    return write_arrow_table(arrow_table(frame, date_columns), path)


def arrow_table(frame: pd.DataFrame, date_columns: tuple[str, ...] = ()) -> object:
    """``frame`` as the Arrow table :func:`write_table` writes (``date_columns`` as ``date32``)."""
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    for name in date_columns:
        if name in table.column_names:
            i = table.column_names.index(name)
            column = table.column(i)
            if pa.types.is_timestamp(column.type):
                table = table.set_column(i, pa.field(name, pa.date32()), column.cast(pa.date32()))
    return table


def write_arrow_table(
    table: object, path: str | os.PathLike[str], metadata: dict[bytes, bytes] | None = None
) -> Path:
    """Write an Arrow table as Parquet, atomically; ``metadata`` is added to the schema's
    key-value metadata (the generation id, :mod:`coverage_analysis.io.generation`)."""
    import pyarrow.parquet as pq

    if metadata:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **metadata})
    return _write(Path(path), lambda tmp: pq.write_table(table, tmp))


#: Characters that make a spreadsheet program read a cell as a formula (or hide one:
#: a leading tab or carriage return).
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
#: What is put before such a cell so that it is shown as text.
FORMULA_GUARD = "'"
_FORMULA_START = "[" + "".join("\\" + c if c in "-\\]^" else c for c in FORMULA_PREFIXES) + "]"


def neutralise_cell(value: object) -> object:
    """Prefix a text cell starting with a formula character with a single quote
    (CSV/Excel formula injection); other values unchanged.

    >>> neutralise_cell("=HYPERLINK(1)"), neutralise_cell("-5"), neutralise_cell(-5)
    ("'=HYPERLINK(1)", "'-5", -5)
    >>> neutralise_cell("Аягоз")
    'Аягоз'
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return FORMULA_GUARD + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` safe to open in a spreadsheet program: text cells and column
    names starting with a :data:`FORMULA_PREFIXES` character get :data:`FORMULA_GUARD`.
    Every CSV the package writes goes through this function (:func:`write_csv`).

    >>> neutralise_frame(pd.DataFrame({"t": ["@x", "ok"], "n": [-1, 2]})).to_dict("list")
    {'t': ["'@x", 'ok'], 'n': [-1, 2]}
    """
    out = frame.copy()
    for col in out.columns:
        values = out[col]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            starts = values.str.match(_FORMULA_START)  # NaN/NA for non-text cells
            mask = np.asarray(starts.to_numpy(dtype=object, na_value=False), dtype=bool)
            if mask.any():
                if values.dtype != object:
                    values = values.astype(object)
                values = values.copy()
                values[mask] = FORMULA_GUARD + values[mask].astype(str)
                out[col] = values
    out.columns = [neutralise_cell(c) for c in out.columns]
    return out


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str], *, bom: bool = False) -> Path:
    """Write ``frame`` as UTF-8 CSV (no index; with a BOM for Excel when ``bom``),
    atomically, after :func:`neutralise_frame`."""
    encoding = "utf-8-sig" if bom else "utf-8"
    safe = neutralise_frame(frame)
    return _write(Path(path), lambda tmp: safe.to_csv(tmp, index=False, encoding=encoding))


def write_json(data: object, path: str | os.PathLike[str], *, strict: bool = False) -> Path:
    """Write ``data`` as indented UTF-8 JSON, atomically. ``strict``: refuse NaN and
    infinity (``ValueError``) and objects JSON does not know, instead of writing them."""

    def dump(tmp: Path) -> None:
        text = json.dumps(
            data,
            ensure_ascii=False,
            indent=2,
            allow_nan=not strict,
            default=None if strict else str,
        )
        tmp.write_text(text, encoding="utf-8")

    return _write(Path(path), dump)
