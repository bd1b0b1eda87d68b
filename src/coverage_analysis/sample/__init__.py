"""Synthetic sample data set: realistic raw files plus the ground truth.

``write_sample(raw_dir, seed)`` simulates the 2014-2016 legalization campaign
in East Kazakhstan (:mod:`.simulate`), reports it through the kinds of files
analysts receive, with every variant of ``input-formats.md`` (:mod:`.layout`,
:mod:`.statistics`, :mod:`.vocab`, written byte-deterministically by
:mod:`.sheets`), and writes ``_truth/`` (:mod:`.truth`): ``truth.json`` and the
expected cleaned tables as parquet. The same seed gives byte-identical files.

``_truth/`` holds:

- ``truth.json``: seed, true ``beta``/``decay`` and the coverage-index definition,
  month effects, the article's calibration facts as realised, the expected
  cleaning-report counts of every file and sheet (``files``), each file's
  container/encoding/delimiter and first data row (``file_meta``), the
  deliberate rejects and the duplicates with both sources, the conventions
  chosen where the spec is open, and ``variants`` (family -> files);
- ``expected_publications`` (one row per kept material, with its source row),
  ``expected_publication_counts`` (district_id, channel, month, n),
  ``expected_legalization`` (district_id, month, applications, amount_kzt),
  ``expected_media_plan``, ``expected_social_reach``, ``expected_population``,
  ``expected_registry_coverage`` (district_id, month) and its ``_sources``;
- ``simulated_panel`` (district x month: true materials by channel, coverage
  index, expected and drawn applications, amounts by kind, ``is_reported``)
  and ``simulated_materials`` (every true material, reported or not).

Example (a few seconds, so not run as a doctest)::

    summary = write_sample("data/raw", seed=2016)
    print(summary)  # Synthetic sample data (seed 2016) written to data/raw: ...
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from coverage_analysis.domain import ARTICLE_MONTH, CHANNELS
from coverage_analysis.sample import simulate as S
from coverage_analysis.sample.layout import Layout
from coverage_analysis.sample.sheets import FileSpec, write_file
from coverage_analysis.sample.truth import calibration_facts, expected_tables, resolve
from coverage_analysis.sample.vocab import VARIANT_FAMILIES

log = logging.getLogger(__name__)

#: Sub-folder of the raw folder holding the ground truth (not an input).
TRUTH_DIR = "_truth"
README_TEXT = """Synthetic sample data made by coverage-analysis (seed {seed}).

These files are SIMULATED: they imitate the spreadsheets that district akimats,
the regional internal-policy office and the State Revenue Department of East
Kazakhstan region sent in 2014-2016 about the legalization campaign. No figure
in them is real. The cleaner reads only .xlsx and .csv files; this README and
the _truth/ folder (truth.json and the expected cleaned tables as parquet) are
skipped. Regenerate with: coverage-analysis sample --raw <folder> --seed {seed}
"""

__all__ = ["TRUTH_DIR", "SampleSummary", "write_sample"]


@dataclass
class SampleSummary:
    """What :func:`write_sample` wrote."""

    raw_dir: Path
    seed: int
    files: list[str]
    sheets: int
    materials: int
    rows_read: int
    rejects: int
    duplicates: int
    facts: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        f = self.facts
        return (
            f"Synthetic sample data (seed {self.seed}) written to {self.raw_dir}: "
            f"{len(self.files)} files, {self.sheets} sheets, {self.rows_read} rows; "
            f"{self.materials} materials (region-wide {f['materials_region_wide_until_article']} "
            f"to {ARTICLE_MONTH:%Y-%m}), {self.rejects} deliberate rejects, "
            f"{self.duplicates} duplicates; truth in {TRUTH_DIR}/"
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    return value


def _file_meta(spec: FileSpec) -> dict[str, Any]:
    return {
        "container": "csv" if spec.is_csv else "xlsx",
        "encoding": spec.encoding,
        "delimiter": spec.delimiter,
        "sheets": {
            sh.name: {
                "kind": sh.kind,
                "first_data_row": sh.first_row,
                "header_rows": len(sh.header),
                "period": None if sh.period is None else [f"{m:%Y-%m}" for m in sh.period],
                "named_district": sh.named_district,
            }
            for sh in spec.sheets
        },
    }


def write_sample(raw_dir: str | Path, seed: int = 2016) -> SampleSummary:
    """Write the synthetic raw folder and its ``_truth/`` for ``seed``.

    An existing ``_truth/`` and files previously written by this function are
    replaced; other files in ``raw_dir`` are left alone.
    """
    raw = Path(raw_dir)
    raw.mkdir(parents=True, exist_ok=True)
    sim = S.simulate(seed)
    layout = Layout(sim)
    files = layout.build()
    res = resolve(files)
    truth_dir = raw / TRUTH_DIR
    if truth_dir.exists():
        shutil.rmtree(truth_dir)
    truth_dir.mkdir()
    for spec in files:
        write_file(raw, spec)
    (raw / "README.txt").write_text(README_TEXT.format(seed=seed), encoding="utf-8")

    tables = expected_tables(res)
    reported = tables["expected_registry_coverage"].assign(is_reported=True)
    panel = sim.panel.merge(reported, on=["district_id", "month"], how="left")
    panel["is_reported"] = panel["is_reported"].eq(True)
    tables["simulated_panel"] = panel
    tables["simulated_materials"] = sim.materials.drop(columns=["day"])
    for name, frame in tables.items():
        frame.to_parquet(truth_dir / f"{name}.parquet", index=False)

    facts = calibration_facts(tables)
    variants: dict[str, list[str]] = {fam: [] for fam in VARIANT_FAMILIES}
    for spec in sorted(files, key=lambda f: f.path):
        for fam in sorted(spec.variants):
            variants.setdefault(fam, []).append(spec.path)
    truth = {
        "generator": "coverage_analysis.sample.write_sample",
        "seed": seed,
        "synthetic": True,
        "true_effect": {
            "beta": S.BETA,
            "decay": S.DECAY,
            "effect_per_doubling_pct": round((2**S.BETA - 1) * 100, 2),
            "coverage_index": (
                "log2(1 + adstock(materials per 10,000 residents, decay)), adstock A[t] = x[t] + "
                "decay*A[t-1] from 0 at Sep 2014 (models/adstock.py coverage_index); materials = all "
                "channels, district-level only (region excluded), the TRUE simulated materials including "
                "those in unreported district-quarters; population = the year's population"
            ),
            "applications": (
                "NegBin(mean = pop/10,000 * application_rate * month_effect * exp(activity_loading * "
                "activity + u) * 2**(beta * coverage_index), dispersion)"
            ),
            "application_rate_per_10k": S.APPLICATION_RATE,
            "activity_loading": S.ACTIVITY_ON_APPLICATIONS,
            "nb_dispersion": S.NB_DISPERSION,
            "district_activity": sim.activity,
            "note": "activity also drives coverage: a model without district effects is biased upward",
        },
        "month_effects": sim.month_effect,
        "amounts": {
            "kinds": {
                k: {"share_before": a, "share_after": b, "median_kzt": m}
                for k, (a, b, m) in S.AMOUNT_KINDS.items()
            },
            "lognormal_sigma": S.AMOUNT_SIGMA,
            "rounded_to_kzt": S.AMOUNT_ROUNDING,
            "comparison_tolerance_kzt": 1.0,
        },
        "calibration": facts,
        "conventions": {
            "outside_campaign": "a publication dated before 2014-09-01 or after 2016-12-31 is a row reject",
            "registry_coverage": "lists districts only; region rows never make 'region' reported",
            "sheet_period_precedence": "a sheet title's period is the same as or inside its file name's period",
            "media_plan_fact": "a quarter's fact is spread evenly over its three months like the plan",
            "platform_ids": "facebook, instagram, vk, odnoklassniki, telegram, youtube",
            "decimal_comma": "the long-layout csv of amounts writes decimals with a comma",
            "statistics_row_outcome": "clean if it gives a new value; else rejected if a value conflicts; else duplicate",
            "unreported": [{"district_id": d, "quarter": q} for d, q in S.REPORT_SKIPS],
            "empty_registries": "district registries with no material (title names district and period) count as reported with zero",
            "channels": list(CHANNELS),
        },
        "files": {path: sheets for path, sheets in sorted(res.report.items())},
        "file_meta": {spec.path: _file_meta(spec) for spec in sorted(files, key=lambda f: f.path)},
        "rejects": res.rejects,
        "duplicates": res.duplicates,
        "variants": variants,
        "skipped_files": [
            "README.txt",
            *sorted(f"{TRUTH_DIR}/{n}.parquet" for n in tables),
            f"{TRUTH_DIR}/truth.json",
        ],
    }
    (truth_dir / "truth.json").write_text(
        json.dumps(_jsonable(truth), ensure_ascii=False, indent=1, sort_keys=False),
        encoding="utf-8",
    )
    rows_read = sum(s["rows_read"] for sh in res.report.values() for s in sh.values())
    summary = SampleSummary(
        raw_dir=raw,
        seed=seed,
        files=sorted(f.path for f in files),
        sheets=sum(len(f.sheets) for f in files),
        materials=len(tables["expected_publications"]),
        rows_read=rows_read,
        rejects=len([r for r in res.rejects if r["scope"] == "row"]),
        duplicates=len(res.duplicates),
        facts=facts,
    )
    log.info("%s", summary)
    return summary
