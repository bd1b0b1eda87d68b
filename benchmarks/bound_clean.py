"""A floor for ``bench_clean.py``'s ratio: the least any clean that meets the spec must do.

Issue 9 asks the 1,000,000-row clean to stay within 2x ``pandas.read_csv(engine="pyarrow")``
of the same file. This script measures, in the same run and on the same file
(``benchmarks/_work/registry_utf8.csv``, written by ``bench_clean.py``), a pipeline that is
*only* the unavoidable part of such a clean, written straight in Arrow with no checks, no
ledger and no pandas:

1. read every column as text (a clean must see the text to classify rows and to reject a
   bad cell with its raw value; type inference would lose ``01.02.15`` vs ``1.2.2015``);
2. the duplicate keys of the spec (``input-formats.md``): URL lower-cased without scheme,
   ``www.`` and trailing slash; title lower-cased, ``ё`` as ``е``, whitespace collapsed;
   each hashed to codes, with the package's own kernels (``clean.fastpath.norm_url``,
   ``norm_text``, ``text_codes``: a kernel that would change nothing is skipped);
3. write the table as Parquet (``data/processed/publications.parquet`` is a named output).

Nothing else is done: no date, district, channel or reach parsing, no validation, no
rejects. The two keys and the Parquet write run side by side in threads, the most
favourable schedule on two cores. Each step runs in a fresh process, alternating with the baseline, ``--repeat``
times; medians are printed. If this floor alone is above 2x the read, no implementation
of the spec can meet the ratio on this machine.

Run: ``.venv/bin/python benchmarks/bench_clean.py`` once (writes the file), then
``.venv/bin/python benchmarks/bound_clean.py [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

WORK = Path(__file__).resolve().parent / "_work"
FILE = WORK / "registry_utf8.csv"
#: Column names of the benchmark registry (its header line is the third line).
COLUMNS = ["no", "date", "district", "channel", "outlet", "title", "url", "reach", "lang", "format"]


def key(column, norm):
    """Codes of the normalised duplicate key (the package's kernels)."""
    from coverage_analysis.clean import fastpath

    return fastpath.text_codes(norm(column))


def child(step: str, out_dir: str) -> None:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from coverage_analysis.clean import fastpath  # the package's own key kernels

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if step == "baseline":  # exactly bench_clean.py's baseline
        frame = pd.read_csv(
            FILE, engine="pyarrow", sep=";", skiprows=3, header=None, encoding="utf-8"
        )
        rows = len(frame)
    else:
        read = pacsv.ReadOptions(skip_rows=3, column_names=COLUMNS)
        convert = pacsv.ConvertOptions(column_types={c: pa.string() for c in COLUMNS})
        table = pacsv.read_csv(FILE, read, pacsv.ParseOptions(delimiter=";"), convert)
        timings["read as text"] = time.perf_counter() - t0
        t = time.perf_counter()

        def timed(name: str, fn, *args):
            start = time.perf_counter()
            result = fn(*args)
            timings[name] = time.perf_counter() - start
            return result

        # side by side, as the package does (Arrow's kernels release the GIL): the most
        # favourable order for the floor on two cores
        with ThreadPoolExecutor(3) as pool:
            url = pool.submit(timed, "url key", key, table["url"], fastpath.norm_url)
            title = pool.submit(timed, "title key", key, table["title"], fastpath.norm_text)
            out = Path(out_dir) / "publications.parquet"
            written = pool.submit(timed, "parquet write", pq.write_table, table, out)
            url_codes, title_codes = url.result(), title.result()
            written.result()
        timings["keys and write, side by side"] = time.perf_counter() - t
        rows = table.num_rows
        assert len(url_codes) == len(title_codes) == rows
    seconds = time.perf_counter() - t0
    print(json.dumps({"step": step, "seconds": seconds, "rows": rows, "parts": timings}))


def run(step: str, out_dir: str) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", step, out_dir],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="alternating runs per step (5)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if not FILE.exists():
        raise SystemExit(f"{FILE} is missing: run benchmarks/bench_clean.py first")
    runs: dict[str, list[dict]] = {"baseline": [], "floor": []}
    with tempfile.TemporaryDirectory() as out:
        for _ in range(max(args.repeat, 1)):
            for step in runs:
                runs[step].append(run(step, out))
    base = statistics.median(r["seconds"] for r in runs["baseline"])
    floor = statistics.median(r["seconds"] for r in runs["floor"])
    print(f"rows: {runs['floor'][0]['rows']:,}; medians of {args.repeat} alternating runs")
    print(f"baseline pandas.read_csv(engine='pyarrow'): {base:.2f} s")
    print(f"floor (text read + two duplicate keys + Parquet write): {floor:.2f} s")
    for part in runs["floor"][0]["parts"]:
        median = statistics.median(r["parts"][part] for r in runs["floor"])
        print(f"  {part}: {median:.2f} s ({median / base:.2f}x the baseline)")
    print(f"ratio floor / baseline: {floor / base:.2f} (issue 9's target for the whole clean: 2.0)")


if __name__ == "__main__":
    main()
