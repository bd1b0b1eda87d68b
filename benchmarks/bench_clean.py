"""Benchmark of the clean step on large registries.

Generates (under ``benchmarks/_work/``, git-ignored) a registry CSV of
``--rows`` rows (default 1,000,000) in the spec's formats: title lines, a
``№ п/п`` column, mixed date / district / channel / reach spellings, a few
blank, total and bad rows; and a 100,000-row xlsx registry. Times
``clean_folder`` end to end against ``pandas.read_csv(engine="pyarrow")`` of
the same file, in the same run, each in a fresh subprocess so that peak
memory (``ru_maxrss``) is that step's alone.

Run: ``.venv/bin/python benchmarks/bench_clean.py [--rows N] [--xlsx-rows N] [--encoding cp1251] [--repeat N]``
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

WORK = Path(__file__).resolve().parent / "_work"
#: Default sizes (the targets in the brief).
CSV_ROWS = 1_000_000
XLSX_ROWS = 100_000
SEED = 2016
#: Rows generated at a time (a larger registry is written chunk by chunk).
CHUNK_ROWS = 1_000_000
#: Share of rows made deliberately bad / blank / duplicated.
BAD_SHARE, BLANK_SHARE = 0.01, 0.005

DATES = [
    "{d:02d}.{m:02d}.{y}",
    "{d:02d}.{m:02d}.{yy:02d}",
    "{y}-{m:02d}-{d:02d}",
    "{d} {mon} {y}",
    "{m:02d}.{y}",
]
MONTHS_RU = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
]
DISTRICTS = [
    "Аягозский район",
    "в Аягозском районе",
    "Аягоз",
    "Ayagoz",
    "г. Семей",
    "Семипалатинск",
    "Усть-Каменогорск",
    "Өскемен",
    "УК",
    "г.Риддер",
    "Зыряновский район",
    "Глубоковский р-н",
    "Жарминский район",
    "ВКО",
    "областные СМИ",
    "Курчумский район",
    "Тарбагатайский район",
    "Уланский район",
    "Шемонаихинский район",
    "Катон-Карагайский район",
]
CHANNELS = [
    "газета",
    "статья в газете",
    "ТВ",
    "телесюжет",
    "радио",
    "сайт акимата",
    "интернет-ресурс",
    "Facebook",
    "Instagram",
    "соцсети",
    "билборд",
    "листовка",
    "семинар",
    "круглый стол",
    "брифинг",
    "интервью",
    "LED-экран",
]
REACH = [
    "1500",
    "1 500",
    "1,5 тыс.",
    "12 000 чел.",
    "100 тыс",
    "1,2 млн",
    "—",
    "-",
    "",
    "250",
    "3000",
]
LANGS = ["рус", "каз", "рус/каз", "ru", "kk", ""]
FORMATS = ["новость", "", "точечная статья", "история успеха", "разъяснение"]
KAZAKH_TO_RUSSIAN = str.maketrans("әғқңөұүһіӘҒҚҢӨҰҮҺІ", "агкноуухиАГКНОУУХИ")
HEADER = "№ п/п;Дата публикации;Район;Вид СМИ;Наименование СМИ;Заголовок;Ссылка;Охват;Язык;Формат"


def make_registry(n: int, seed: int = SEED, start: int = 0) -> pd.DataFrame:
    """``n`` registry rows as strings (vectorised), numbered from ``start``."""
    rng = np.random.default_rng(seed)
    days = pd.to_datetime("2014-09-01") + pd.to_timedelta(rng.integers(0, 851, n), unit="D")
    style = rng.integers(0, len(DATES), n)
    dd, mm, yy = days.day.to_numpy(), days.month.to_numpy(), days.year.to_numpy()
    date = np.empty(n, dtype=object)
    for i, fmt in enumerate(DATES):
        sel = style == i
        date[sel] = [
            fmt.format(d=d, m=m, y=y, yy=y % 100, mon=MONTHS_RU[m - 1])
            for d, m, y in zip(dd[sel], mm[sel], yy[sel], strict=True)
        ]
    pick = lambda values: np.asarray(values, dtype=object)[rng.integers(0, len(values), n)]  # noqa: E731
    ids = np.arange(start, start + n)
    frame = pd.DataFrame(
        {
            "no": (ids + 1).astype(str),
            "date": date,
            "district": pick(DISTRICTS),
            "channel": pick(CHANNELS),
            "outlet": pd.Series(rng.integers(0, 300, n)).map("Издание {}".format).to_numpy(),
            "title": pd.Series(ids).map("О легализации имущества, материал {}".format).to_numpy(),
            "url": pd.Series(ids).map("https://news.vko.kz/{}".format).to_numpy(),
            "reach": pick(REACH),
            "lang": pick(LANGS),
            "format": pick(FORMATS),
        }
    )
    bad = rng.random(n) < BAD_SHARE
    frame.loc[bad, "district"] = "Неизвестный район"
    dup = rng.random(n) < BAD_SHARE
    frame.loc[dup, "url"] = "https://news.vko.kz/0"
    blank = rng.random(n) < BLANK_SHARE
    frame.loc[blank, :] = ""
    return frame


def write_csv(
    frame: pd.DataFrame, path: Path, encoding: str, head: bool = True, foot: bool = True
) -> None:
    """Write (``head``: create, with the title and header; else append) ``frame`` as
    registry lines; ``foot``: end with the total and signature lines."""
    lines = frame.astype(str).agg(";".join, axis=1) if len(frame) < 1000 else _join(frame)
    text = "\n".join(lines) + "\n"
    if head:
        text = "Реестр публикаций по освещению легализации\n\n" + HEADER + "\n" + text
    if foot:
        text += "Итого;;;;;;;;;\nИсп. Иванова;;;;;;;;;\n"
    if encoding == "cp1251":  # Windows-1251 has no Kazakh letters: typed as Russian look-alikes
        text = text.translate(KAZAKH_TO_RUSSIAN)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb" if head else "ab") as f:
        f.write(text.encode(encoding))


def write_registry(rows: int, paths: dict[Path, str]) -> None:
    """A registry of ``rows`` rows written to each path (in its encoding), generated
    :data:`CHUNK_ROWS` at a time so that a 10,000,000-row file needs little memory."""
    for start in range(0, max(rows, 1), CHUNK_ROWS):
        n = min(CHUNK_ROWS, rows - start)
        # the first chunk is the 1,000,000-row file of earlier runs (same seed)
        frame = make_registry(n, SEED + start // CHUNK_ROWS, start)
        for path, encoding in paths.items():
            write_csv(frame, path, encoding, head=start == 0, foot=start + n >= rows)


def _join(frame: pd.DataFrame) -> pd.Series:
    out = frame.iloc[:, 0].astype(str)
    for c in frame.columns[1:]:
        out = out + ";" + frame[c].astype(str)
    return out


def write_xlsx(frame: pd.DataFrame, path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Реестр")
    ws.append(["Реестр публикаций по освещению легализации"])
    ws.append([])
    ws.append(HEADER.split(";"))
    for row in frame.itertuples(index=False):
        ws.append(list(row))
    ws.append(["Итого"])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def _peak_mb() -> float:
    """Peak resident memory of this process in MB (``VmHWM``; ``ru_maxrss`` of a child
    started by a big parent reports the parent's size)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(step: str, path: str, out: str) -> None:
    """Run one timed step in this (fresh) process and print JSON with seconds and peak RSS."""
    import pyarrow.csv  # noqa: F401  (imports are not what is timed)

    from coverage_analysis.clean import clean_folder

    t0 = time.perf_counter()
    if step == "pyarrow":
        frame = pd.read_csv(
            path, engine="pyarrow", sep=";", skiprows=3, header=None, encoding="utf-8"
        )
        rows = len(frame)
    elif step == "clean":
        result = clean_folder(path, out)
        rows = result.report["totals"]["rows_read"]
    elif step == "calamine":
        from python_calamine import CalamineWorkbook

        rows = len(CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python())
    elif step == "openpyxl":
        import openpyxl

        wb = openpyxl.load_workbook(path, read_only=True)
        rows = sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True))
    else:
        raise SystemExit(f"unknown step {step}")
    seconds = time.perf_counter() - t0
    peak_mb = _peak_mb()
    print(json.dumps({"step": step, "seconds": seconds, "peak_mb": peak_mb, "rows": rows}))


def run_child(step: str, path: Path, out: Path | None = None) -> dict:
    cmd = [sys.executable, __file__, "--child", step, str(path), str(out or "")]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _median_run(runs: list[dict]) -> dict:
    """The run with the median time (the lower middle one of an even count); its peak
    memory is the largest of all runs."""
    ordered = sorted(runs, key=lambda r: r["seconds"])
    return {**ordered[(len(ordered) - 1) // 2], "peak_mb": max(r["peak_mb"] for r in runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=CSV_ROWS)
    parser.add_argument("--xlsx-rows", type=int, default=XLSX_ROWS)
    parser.add_argument("--encoding", default="utf-8", choices=("utf-8", "utf-8-sig", "cp1251"))
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each csv step (medians are reported)"
    )
    parser.add_argument(
        "--no-baseline",
        action="store_true",
        help="clean only (a 10,000,000-row pyarrow read alone needs about 9 GB)",
    )
    parser.add_argument("--child", nargs=3, metavar=("STEP", "PATH", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    csv_raw, xlsx_raw = WORK / "csv_raw", WORK / "xlsx_raw"
    shutil.rmtree(WORK, ignore_errors=True)
    t0 = time.perf_counter()
    # the same content in UTF-8 for pandas' pyarrow reader (it reads UTF-8 only)
    utf8 = WORK / "registry_utf8.csv"
    write_registry(args.rows, {csv_raw / "registry.csv": args.encoding, utf8: "utf-8"})
    import gc

    gc.collect()  # the children's peak memory must be theirs alone
    print(f"generated {args.rows:,} csv rows ({args.encoding}) in {time.perf_counter() - t0:.1f} s")

    # alternate the two steps --repeat times: on a noisy machine the medians compare
    # like with like (one run each by default)
    bases, cleans = [], []
    for _ in range(max(args.repeat, 1)):
        if not args.no_baseline:
            bases.append(run_child("pyarrow", utf8))
        cleans.append(run_child("clean", csv_raw, WORK / "csv_out"))
    if args.no_baseline:
        clean = _median_run(cleans)
        print(
            f"clean_folder (csv, {clean['rows']:,} rows read): {clean['seconds']:.2f} s, "
            f"peak {clean['peak_mb']:.0f} MB (no baseline run: --no-baseline)"
        )
        return
    base, clean = _median_run(bases), _median_run(cleans)
    ratio = clean["seconds"] / base["seconds"]
    if args.repeat > 1:
        shown = lambda runs: ", ".join(f"{r['seconds']:.2f}" for r in runs)  # noqa: E731
        print(f"runs (s): pyarrow {shown(bases)}; clean_folder {shown(cleans)}; medians below")
    print(
        f"pandas.read_csv(engine='pyarrow'): {base['seconds']:.2f} s, peak {base['peak_mb']:.0f} MB"
    )
    print(
        f"clean_folder (csv, {clean['rows']:,} rows read): {clean['seconds']:.2f} s, peak {clean['peak_mb']:.0f} MB"
    )
    print(f"ratio clean / pyarrow read: {ratio:.1f}")

    if args.xlsx_rows:
        t0 = time.perf_counter()
        write_xlsx(make_registry(args.xlsx_rows, SEED + 1), xlsx_raw / "registry.xlsx")
        import gc

        gc.collect()
        print(f"generated {args.xlsx_rows:,} xlsx rows in {time.perf_counter() - t0:.1f} s")
        cal = run_child("calamine", xlsx_raw / "registry.xlsx")
        opx = run_child("openpyxl", xlsx_raw / "registry.xlsx")
        cx = run_child("clean", xlsx_raw, WORK / "xlsx_out")
        print(
            f"load xlsx: calamine {cal['seconds']:.2f} s (peak {cal['peak_mb']:.0f} MB), openpyxl read-only {opx['seconds']:.2f} s (peak {opx['peak_mb']:.0f} MB)"
        )
        print(
            f"clean_folder (xlsx, {cx['rows']:,} rows read): {cx['seconds']:.2f} s, peak {cx['peak_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
