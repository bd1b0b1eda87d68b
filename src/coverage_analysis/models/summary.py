"""``model_summary.json``: every model the reports read, in one file.

Layout: the applications model's ``to_dict()`` at the top level (so the file
reads like :class:`~coverage_analysis.models.CoverageModelResult`:
``coverage_effect``, ``placebo_effect``, ``effect_unit``, ...), then one entry
per outcome (``applications``, ``amount_kzt``) with ``status``, the model's
fields and its ``channels``, ``districts`` and ``diagnostics``, then
``cross_section`` per outcome, ``n_boot``, ``seed`` and ``seconds``. A model
that cannot be fitted has ``status: error`` and the reason.

>>> import tempfile, json
>>> from pathlib import Path
>>> from coverage_analysis.models.simulate import simulate_panel
>>> tmp = Path(tempfile.mkdtemp())
>>> simulate_panel("null", seed=0).to_parquet(tmp / "panel.parquet")
>>> path = write_model_summary(tmp, n_boot=99)
>>> data = json.loads(path.read_text())
>>> data["applications"]["status"], data["amount_kzt"]["status"], "coverage_effect" in data
('ok', 'ok', True)
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import pandas as pd

from coverage_analysis.errors import CoverageAnalysisError, DataNotFoundError
from coverage_analysis.io.writers import write_json
from coverage_analysis.models._data import OUTCOMES
from coverage_analysis.models.channels import fit_channel_models
from coverage_analysis.models.coverage import (
    DEFAULT_N_BOOT,
    DEFAULT_SEED,
    _jsonable,
    fit_coverage_model,
)
from coverage_analysis.models.diagnostics import diagnostics
from coverage_analysis.models.districts import cross_section, district_effects

log = logging.getLogger(__name__)

#: File name of the summary in the processed folder.
SUMMARY_NAME = "model_summary.json"
#: File name of the panel in the processed folder.
PANEL_NAME = "panel.parquet"


def load_panel(processed_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """``panel.parquet`` from ``processed_dir``, else the panel built from the
    cleaned tables there; :class:`DataNotFoundError` naming the path otherwise."""
    folder = Path(processed_dir)
    if not folder.is_dir():
        raise DataNotFoundError(f"processed folder not found: {folder}")
    from coverage_analysis.io.generation import check_generation

    check_generation(folder, panel=True)  # a panel of other tables is refused in one line
    path = folder / PANEL_NAME
    if path.exists():
        return pd.read_parquet(path)
    try:
        from coverage_analysis.panel import build_panel
    except ImportError as exc:  # pragma: no cover - the panel module ships with the package
        raise DataNotFoundError(f"{path} not found and the panel builder is unavailable") from exc
    try:
        return build_panel(folder)
    except FileNotFoundError as exc:
        raise DataNotFoundError(f"{path} not found and cannot be built: {exc}") from exc


def _section(name: str, fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Run one model; a failure is recorded in the summary, not raised."""
    try:
        return {"status": "ok", **fn(*args, **kwargs)}
    except (CoverageAnalysisError, ValueError, ArithmeticError, KeyError) as exc:
        log.warning("model section %s failed: %s", name, exc)
        return {"status": "error", "error": f"{type(exc).__name__}: {exc}"}


def model_summary(
    panel: pd.DataFrame, *, n_boot: int = DEFAULT_N_BOOT, seed: int = DEFAULT_SEED
) -> dict[str, Any]:
    """Every model for both outcomes as one JSON-ready dictionary."""
    started = time.perf_counter()
    models: dict[str, Any] = {}
    for outcome in OUTCOMES:
        if outcome not in panel.columns or panel[outcome].isna().all():
            models[outcome] = {"status": "error", "error": f"no {outcome} in the panel"}
            continue
        try:
            res = fit_coverage_model(panel, outcome, n_boot=n_boot, seed=seed)
        except (CoverageAnalysisError, ValueError, ArithmeticError) as exc:
            log.warning("coverage model of %s failed: %s", outcome, exc)
            models[outcome] = {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
            continue
        entry: dict[str, Any] = {"status": "ok", **res.to_dict()}
        entry["channels"] = _section(
            "channels",
            lambda o=outcome, d=res.decay: fit_channel_models(
                panel, o, decay=d, n_boot=n_boot, seed=seed
            ).to_dict(),
        )
        entry["districts"] = _section(
            "districts",
            lambda r=res: {
                "table": district_effects(panel, result=r).to_dict(orient="records"),
            },
        )
        entry["diagnostics"] = _section("diagnostics", lambda r=res: diagnostics(panel, r))
        models[outcome] = entry
    top: dict[str, Any] = {}
    apps = models.get("applications", {})
    if apps.get("status") == "ok":
        top = {k: v for k, v in apps.items() if k not in ("channels", "districts", "diagnostics")}
    return _jsonable(
        {
            **top,
            **models,
            "cross_section": {
                o: _section("cross_section", cross_section, panel, o)
                for o in OUTCOMES
                if o in panel.columns
            },
            "n_boot": n_boot,
            "seed": seed,
            "seconds": time.perf_counter() - started,
        }
    )


def write_model_summary(
    processed_dir: str | os.PathLike[str], *, n_boot: int = DEFAULT_N_BOOT, seed: int = DEFAULT_SEED
) -> Path:
    """Fit every model on the panel of ``processed_dir`` and write
    ``model_summary.json`` there atomically (temporary file + ``os.replace``)."""
    folder = Path(processed_dir)
    from coverage_analysis.io.generation import REPORT_KEY, folder_generation

    panel = load_panel(folder)
    summary = model_summary(panel, n_boot=n_boot, seed=seed)
    generation = folder_generation(folder)
    if generation is not None:  # the generation of the cleaned tables it was fitted on
        summary[REPORT_KEY] = generation
    target = write_json(summary, folder / SUMMARY_NAME, strict=True)
    log.info("model summary written to %s", target)
    return target
