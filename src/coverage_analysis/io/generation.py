"""The processed folder holds one generation: every file of a ``clean`` run, or none of it.

Why: ``clean`` writes several files (the tables, ``rejects.csv``,
``duplicates.csv``, ``cleaning_report.json``). Replacing them one by one means a
run killed halfway leaves tables from two runs side by side, and nothing says so.

Design (POSIX file systems; every step is one ``rename`` or ``symlink``):

1. every output is written into ``<processed>/.staging-<id>/`` (same file system);
2. the complete staging folder is renamed to ``<processed>/.gen-<id>/``;
3. each output name in ``<processed>`` is a symbolic link ``<name> -> .current/<name>``
   (created once; a new name's link dangles until step 4, so it is invisible);
4. **the switch**: a new link ``.current -> .gen-<id>`` replaces the old one with
   ``os.replace``, one atomic rename: every name now resolves into the new generation;
5. links of names the new generation lacks (kinds absent from this run) are removed,
   older ``.gen-*`` folders, ``.staging-*`` folders and ``.*.tmp`` files are swept
   (also at the start of the next run, when a run was killed before its sweep).

A kill before step 4 leaves the old generation complete and current; a kill after
it leaves the new one. A folder written by an older version (plain files, no
``.current``) is first adopted as a generation by hard links, so the same holds.

The generation id is written into ``cleaning_report.json`` (with the size and
SHA-256 of every file), into every Parquet table's key-value metadata
(:data:`GENERATION_KEY`), and into ``panel.parquet`` and ``model_summary.json``
(the generation they were built from). :func:`check_generation` refuses, in one
line, a folder whose files disagree.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import secrets
import shutil
from pathlib import Path

from coverage_analysis.errors import CoverageAnalysisError

log = logging.getLogger(__name__)

#: Parquet key-value metadata key holding the generation a table belongs to.
GENERATION_KEY = b"coverage_analysis.generation"
#: Key of the generation id in ``cleaning_report.json`` and ``model_summary.json``.
REPORT_KEY = "generation"
#: Key of the per-file sizes and hashes in ``cleaning_report.json``.
FILES_KEY = "generation_files"
#: The link naming the current generation, inside the processed folder.
CURRENT_LINK = ".current"
#: Prefix of a complete generation's folder.
GEN_PREFIX = ".gen-"
#: Prefix of a generation being written.
STAGING_PREFIX = ".staging-"
#: Suffix of the temporary files of the atomic writers (:mod:`coverage_analysis.io.writers`).
TMP_SUFFIX = ".tmp"
#: Environment variable naming a step at which ``clean`` stops and waits to be killed
#: (``staged``, ``renamed``, ``linked``, ``switched``): used by the kill test only.
PAUSE_ENV = "COVERAGE_ANALYSIS_PAUSE_AT"
#: Seconds a paused run waits (the test kills it long before).
PAUSE_SECONDS = 60.0


class GenerationMismatchError(CoverageAnalysisError):
    """Files of a processed folder that come from different runs."""


def new_generation_id() -> str:
    """A fresh generation id: UTC time and a random suffix (sorts by time).

    >>> len(new_generation_id().split("-"))
    2
    """
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stamp}-{secrets.token_hex(4)}"


def file_digest(path: Path) -> dict[str, object]:
    """Size and SHA-256 of a file (how a CSV is tied to its generation)."""
    with open(path, "rb") as f:  # (hashlib reads the file itself, without the GIL)
        h = hashlib.file_digest(f, "sha256")
    return {"bytes": path.stat().st_size, "sha256": h.hexdigest()}


def _pause(step: str) -> None:
    """Stop at ``step`` when the kill test asks for it (:data:`PAUSE_ENV`)."""
    if os.environ.get(PAUSE_ENV) == step:
        import sys
        import time

        print(f"paused at {step}", file=sys.stderr, flush=True)
        time.sleep(PAUSE_SECONDS)


def _replace_link(link: Path, target: str) -> None:
    """Point ``link`` at ``target`` in one atomic rename."""
    tmp = link.with_name(f".{link.name}.{secrets.token_hex(4)}{TMP_SUFFIX}")
    os.symlink(target, tmp)
    os.replace(tmp, link)


class Staging:
    """A generation being written: :meth:`path` gives where each output goes,
    :meth:`commit` switches the processed folder to it."""

    def __init__(self, processed: Path) -> None:
        self.processed = processed
        self.id = new_generation_id()
        processed.mkdir(parents=True, exist_ok=True)
        sweep(processed)
        self.folder = processed / f"{STAGING_PREFIX}{self.id}"
        self.folder.mkdir()

    def path(self, name: str) -> Path:
        """Where output ``name`` is written in the staging folder."""
        return self.folder / name

    def digests(self, names: list[str]) -> dict[str, dict[str, object]]:
        """Size and hash of staged outputs (for ``cleaning_report.json``)."""
        return {n: file_digest(self.path(n)) for n in names if self.path(n).is_file()}

    def commit(self) -> None:
        """Make the staged files the processed folder's generation (see the module doc)."""
        names = sorted(p.name for p in self.folder.iterdir() if not p.name.endswith(TMP_SUFFIX))
        _pause("staged")
        adopt_legacy(self.processed, sorted(set(names) | set(output_names())))
        gen = self.processed / f"{GEN_PREFIX}{self.id}"
        os.replace(self.folder, gen)
        _pause("renamed")
        for name in names:
            link = self.processed / name
            if not link.is_symlink() or os.readlink(link) != f"{CURRENT_LINK}/{name}":
                _replace_link(link, f"{CURRENT_LINK}/{name}")
        _pause("linked")
        _replace_link(self.processed / CURRENT_LINK, gen.name)  # the switch
        _pause("switched")
        sweep(self.processed)

    def abandon(self) -> None:
        """Remove the staging folder (the run failed before committing)."""
        shutil.rmtree(self.folder, ignore_errors=True)


def output_names() -> list[str]:
    """Every file name a ``clean`` run may write (tables, ledgers, report)."""
    from coverage_analysis.schema import (
        CLEANING_REPORT_FILE,
        DUPLICATES_FILE,
        REJECTS_FILE,
        TABLE_FILES,
    )

    return [*TABLE_FILES.values(), REJECTS_FILE, DUPLICATES_FILE, CLEANING_REPORT_FILE]


def current_generation_folder(processed: Path) -> Path | None:
    """The folder of the current generation, or None (a folder never switched)."""
    link = processed / CURRENT_LINK
    if not link.is_symlink():
        return None
    return processed / os.readlink(link)


def adopt_legacy(processed: Path, names: list[str]) -> None:
    """Turn plain output files of an older layout into a generation (hard links, then
    each name replaced by its link: every name shows the same content throughout)."""
    if (processed / CURRENT_LINK).is_symlink():
        return
    plain = [n for n in names if (processed / n).is_file() and not (processed / n).is_symlink()]
    if not plain:
        return
    gen = processed / f"{GEN_PREFIX}legacy-{secrets.token_hex(4)}"
    staging = processed / f"{STAGING_PREFIX}legacy-{secrets.token_hex(4)}"
    staging.mkdir()
    for n in plain:
        os.link(processed / n, staging / n)
    os.replace(staging, gen)
    _replace_link(processed / CURRENT_LINK, gen.name)
    for n in plain:
        _replace_link(processed / n, f"{CURRENT_LINK}/{n}")


def sweep(processed: Path) -> list[str]:
    """Remove what a killed or finished run left behind: staging folders, generations
    other than the current one, temporary files, links into the current generation
    that lead nowhere. Returns the names removed."""
    if not processed.is_dir():
        return []
    removed: list[str] = []
    copied = processed / CURRENT_LINK
    if copied.exists() and not copied.is_symlink():  # a copy that resolved the link: plain
        shutil.rmtree(copied, ignore_errors=True)  # files beside it are what readers see
        removed.append(CURRENT_LINK)
    current = current_generation_folder(processed)
    for p in processed.iterdir():
        name = p.name
        stale = (
            name.startswith(STAGING_PREFIX)
            or (name.startswith(GEN_PREFIX) and (current is None or p.name != current.name))
            or (name.startswith(".") and name.endswith(TMP_SUFFIX))
        )
        link_dangles = (
            current is not None
            and p.is_symlink()
            and os.readlink(p).startswith(f"{CURRENT_LINK}/")
            and not p.exists()
        )
        if stale or link_dangles:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
            removed.append(name)
    if removed:
        log.info("%s: swept %s", processed, ", ".join(sorted(removed)))
    return removed


# --------------------------------------------------------------------------- checks


def parquet_generation(path: Path) -> str | None:
    """The generation recorded in a Parquet file's metadata (None: not recorded)."""
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    value = meta.get(GENERATION_KEY)
    return value.decode() if value is not None else None


def folder_generation(processed: Path) -> str | None:
    """The generation of ``cleaning_report.json`` in ``processed`` (None: none recorded)."""
    from coverage_analysis.schema import CLEANING_REPORT_FILE

    path = processed / CLEANING_REPORT_FILE
    if not path.is_file():
        return None
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = report.get(REPORT_KEY) if isinstance(report, dict) else None
    return str(value) if value else None


def check_generation(
    processed: str | os.PathLike[str], *, panel: bool = False, model: bool = False
) -> str | None:
    """The generation of a processed folder after checking that its files agree.

    Every cleaned table's metadata and every CSV's size must match
    ``cleaning_report.json``; with ``panel``/``model`` also ``panel.parquet`` and
    ``model_summary.json`` when present (they must be built from the same generation).
    Raises :class:`GenerationMismatchError` in one line otherwise. A folder whose
    report records no generation (written by hand, or by an older version) is not
    checked (None).
    """
    from coverage_analysis.schema import CLEANING_REPORT_FILE, TABLE_FILES

    folder = Path(processed)
    gen = folder_generation(folder)
    if gen is None:
        return None
    report = json.loads((folder / CLEANING_REPORT_FILE).read_text(encoding="utf-8"))
    recorded: dict[str, dict[str, object]] = report.get(FILES_KEY, {}) or {}
    again = "run `coverage-analysis clean` again"
    for name in TABLE_FILES.values():
        path = folder / name
        if not path.is_file():
            if name in recorded:
                raise GenerationMismatchError(
                    f"{folder}: {name} is missing but {CLEANING_REPORT_FILE} (generation "
                    f"{gen}) lists it; {again}"
                )
            continue
        try:
            found = parquet_generation(path)
        except (OSError, ValueError) as exc:
            raise GenerationMismatchError(f"{path}: cannot read its metadata ({exc})") from None
        if found != gen:
            raise GenerationMismatchError(
                f"{folder}: files from different runs: {name} is generation {found or 'unknown'}, "
                f"{CLEANING_REPORT_FILE} is generation {gen}; {again}"
            )
    for name, entry in recorded.items():
        path = folder / name
        if name.endswith(".parquet") or not path.is_file():
            continue
        if path.stat().st_size != entry.get("bytes"):
            raise GenerationMismatchError(
                f"{folder}: files from different runs: {name} is {path.stat().st_size} bytes, "
                f"{CLEANING_REPORT_FILE} (generation {gen}) records {entry.get('bytes')}; {again}"
            )
    if panel:
        from coverage_analysis.panel import PANEL_FILE

        path = folder / PANEL_FILE
        if path.is_file():
            found = parquet_generation(path)
            if found != gen:
                raise GenerationMismatchError(
                    f"{folder}: {PANEL_FILE} was built from generation {found or 'unknown'} but "
                    f"the cleaned tables are generation {gen}; run `coverage-analysis panel`"
                )
    if model:
        from coverage_analysis.models.summary import SUMMARY_NAME

        path = folder / SUMMARY_NAME
        if path.is_file():
            try:
                found = json.loads(path.read_text(encoding="utf-8")).get(REPORT_KEY)
            except (OSError, ValueError, AttributeError):
                found = None
            if found != gen:
                raise GenerationMismatchError(
                    f"{folder}: {SUMMARY_NAME} was fitted on generation {found or 'unknown'} but "
                    f"the cleaned tables are generation {gen}; run `coverage-analysis model`"
                )
    return gen
