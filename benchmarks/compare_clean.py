"""Do two versions of the package clean the same raw folders into the same tables?

A refactoring of ``clean/`` must not change a single output. This script writes
raw folders (the synthetic sample, a registry CSV of ``--rows`` rows from
``bench_clean.py`` in UTF-8 and in cp1251, and a small xlsx registry), cleans each
with the package at git ref ``--old`` (exported with ``git archive``) and with the
working tree, each in a fresh subprocess, and compares every output: parquet
tables as frames (``assert_frame_equal``, dtypes included), CSV files byte for
byte, ``cleaning_report.json`` as data (the two folder paths aside).

Run: ``.venv/bin/python benchmarks/compare_clean.py [--old HEAD] [--rows 50000]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
#: Report keys that name the folders of a run (they differ by construction).
PATH_KEYS: tuple[str, ...] = ("raw_dir", "processed_dir")
#: Report keys of the folder generation (``io/generation.py``: REPORT_KEY, FILES_KEY),
#: spelled here so that the script runs against any version of the package.
GENERATION_REPORT_KEY, GENERATION_FILES_KEY = "generation", "generation_files"


def export(ref: str, dest: Path) -> Path:
    """The ``src`` folder of git ``ref``, extracted under ``dest``."""
    archive = dest / "old.tar"
    subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", "-o", str(archive), ref, "src"],
        check=True,
    )
    with tarfile.open(archive) as tar:
        tar.extractall(dest / "old", filter="data")
    return dest / "old" / "src"


def write_inputs(work: Path, rows: int) -> list[Path]:
    """Raw folders to clean: the sample, the benchmark registry (two encodings), an xlsx."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_clean

    from coverage_analysis.sample import write_sample

    sample = work / "raw_sample"
    write_sample(sample, seed=2016)
    folders = [sample]
    frame = bench_clean.make_registry(rows)
    for encoding in ("utf-8", "cp1251"):
        folder = work / f"raw_registry_{encoding}"
        bench_clean.write_csv(frame, folder / "registry.csv", encoding)
        folders.append(folder)
    xlsx = work / "raw_xlsx"
    bench_clean.write_xlsx(bench_clean.make_registry(2000, 7), xlsx / "registry.xlsx")
    folders.append(xlsx)
    return folders


def clean_with(src: Path, raw: Path, out: Path) -> None:
    """``clean_folder(raw, out)`` with the package found at ``src``, in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    code = "import sys; from coverage_analysis.clean import clean_folder; clean_folder(sys.argv[1], sys.argv[2])"
    subprocess.run([sys.executable, "-c", code, str(raw), str(out)], check=True, env=env)


def compare(old: Path, new: Path) -> list[str]:
    """Differences between two processed folders (empty when identical)."""
    problems = []
    # the outputs (links into the current generation; the generation folders themselves,
    # dot-named, are not compared)
    names = sorted(
        {p.name for p in old.iterdir() if not p.name.startswith(".")}
        | {p.name for p in new.iterdir() if not p.name.startswith(".")}
    )
    for name in names:
        a, b = old / name, new / name
        if not a.exists() or not b.exists():
            problems.append(f"{name}: only in {'new' if b.exists() else 'old'}")
        elif name.endswith(".parquet"):
            try:
                pd.testing.assert_frame_equal(pd.read_parquet(a), pd.read_parquet(b))
            except AssertionError as exc:
                problems.append(f"{name}: {str(exc).splitlines()[0]}")
        elif name.endswith(".json"):
            ja, jb = json.loads(a.read_text()), json.loads(b.read_text())
            for k in PATH_KEYS:
                ja.pop(k, None)
                jb.pop(k, None)
            # a run's generation id differs by construction, and with it the parquet
            # files' bytes (the id is in their metadata): the CSV digests must agree
            for j in (ja, jb):
                j.pop(GENERATION_REPORT_KEY, None)
                files = j.pop(GENERATION_FILES_KEY, {})
                j["csv_digests"] = {k: v for k, v in files.items() if k.endswith(".csv")}
            if ja != jb:
                problems.append(f"{name}: reports differ")
        elif a.read_bytes() != b.read_bytes():
            problems.append(f"{name}: bytes differ")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", default="HEAD", help="git ref of the reference version")
    parser.add_argument("--rows", type=int, default=50_000, help="rows of the registry CSV")
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        old_src = export(args.old, work)
        for raw in write_inputs(work, args.rows):
            clean_with(old_src, raw, work / "old_out" / raw.name)
            clean_with(ROOT / "src", raw, work / "new_out" / raw.name)
            problems = compare(work / "old_out" / raw.name, work / "new_out" / raw.name)
            print(f"{raw.name}: " + ("identical" if not problems else "; ".join(problems)))
            failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
