"""``model_summary.json``: every model the reports read, in one file.

Layout: the applications model's ``to_dict()`` at the top level (so the file
reads like :class:`~coverage_analysis.models.CoverageModelResult`:
``coverage_effect``, ``placebo_effect``, ``effect_unit``, ...), then one entry
per outcome (``applications``, ``amount_kzt``) with ``status``, the model's
fields and its ``channels``, ``districts`` and ``diagnostics``, then
``cross_section`` per outcome, ``n_boot``, ``n_perm``, ``seed``, ``seconds``
and ``schema_version``. A model that cannot be fitted has ``status: error``
and the reason. The amounts model reuses the applications model's decay
(never a separate search).

The file is validated against ``model_summary.schema.json`` (JSON Schema,
shipped in this package) when written and when read
(:func:`read_model_summary`), so a reader never meets a guessed key.

>>> import tempfile, json
>>> from pathlib import Path
>>> from coverage_analysis.models.simulate import simulate_panel
>>> tmp = Path(tempfile.mkdtemp())
>>> simulate_panel("null", seed=0).to_parquet(tmp / "panel.parquet")
>>> path = write_model_summary(tmp, n_boot=99)
>>> data = json.loads(path.read_text())
>>> data["applications"]["status"], data["amount_kzt"]["status"], "coverage_effect" in data
('ok', 'ok', True)
>>> data["amount_kzt"]["decay"] == data["applications"]["decay"]
True
>>> read_model_summary(tmp)["schema_version"]
2
"""

from __future__ import annotations

import json
import logging
import os
import time
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import fastjsonschema
import pandas as pd

from coverage_analysis.errors import CoverageAnalysisError, DataNotFoundError, SchemaError
from coverage_analysis.io.writers import write_json
from coverage_analysis.models._data import OUTCOMES
from coverage_analysis.models.channels import fit_channel_models
from coverage_analysis.models.coverage import (
    DEFAULT_N_BOOT,
    DEFAULT_N_PERM,
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
#: Version of the layout (bumped when a field changes meaning).
SCHEMA_VERSION = 2
#: JSON Schema of the file, shipped in this package.
SCHEMA_FILE = "model_summary.schema.json"


@cache
def _schema() -> dict[str, Any]:
    text = resources.files("coverage_analysis.models").joinpath(SCHEMA_FILE).read_text("utf-8")
    return json.loads(text)


@cache
def _validator() -> Any:
    """The schema compiled once per process (fastjsonschema generates Python code
    for it; jsonschema's import alone took 3-6 s here, see the README)."""
    return fastjsonschema.compile(_schema())


def validate_model_summary(data: dict[str, Any], where: str = "model_summary") -> None:
    """Raise :class:`~coverage_analysis.errors.SchemaError` naming ``where``
    and the first offending field when ``data`` does not match the schema."""
    try:
        _validator()(data)
    except fastjsonschema.JsonSchemaValueException as err:
        path = "/".join(str(p) for p in (err.path or [])[1:]) or "(top level)"
        raise SchemaError(f"{where}: field {path}: {str(err.message)[:300]}") from None


def read_model_summary(processed_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """``model_summary.json`` of ``processed_dir``, validated against the
    schema (:class:`DataNotFoundError` when absent, :class:`SchemaError` when
    it does not match, e.g. written by an older version)."""
    path = Path(processed_dir) / SUMMARY_NAME
    if not path.is_file():
        raise DataNotFoundError(f"model summary not found: {path}")
    try:
        data = json.loads(path.read_text("utf-8"))
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{path}: not valid JSON ({exc})") from exc
    validate_model_summary(data, str(path))
    return data


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
    panel: pd.DataFrame,
    *,
    n_boot: int = DEFAULT_N_BOOT,
    n_perm: int = DEFAULT_N_PERM,
    seed: int = DEFAULT_SEED,
) -> dict[str, Any]:
    """Every model for both outcomes as one JSON-ready dictionary (validated).
    The amounts model uses the applications model's decay rule: the same
    average over the decay grid (never a search of its own), or the same
    decay when the applications fell back to one."""
    started = time.perf_counter()
    models: dict[str, Any] = {}
    apps_decay: float | None = None
    for outcome in OUTCOMES:
        if outcome not in panel.columns or panel[outcome].isna().all():
            models[outcome] = {"status": "error", "error": f"no {outcome} in the panel"}
            continue
        try:
            res = fit_coverage_model(
                panel,
                outcome,
                n_boot=n_boot,
                n_perm=n_perm,
                seed=seed,
                decay=apps_decay if outcome != "applications" else None,
            )
        except (CoverageAnalysisError, ValueError, ArithmeticError) as exc:
            log.warning("coverage model of %s failed: %s", outcome, exc)
            models[outcome] = {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
            continue
        if outcome == "applications":
            apps_decay = None if res.decay_search else res.decay
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
    out = _jsonable(
        {
            **top,
            **models,
            "cross_section": {
                o: _section("cross_section", cross_section, panel, o)
                for o in OUTCOMES
                if o in panel.columns
            },
            "n_boot": n_boot,
            "n_perm": n_perm,
            "seed": seed,
            "seconds": time.perf_counter() - started,
            "schema_version": SCHEMA_VERSION,
        }
    )
    validate_model_summary(out)
    return out


def write_model_summary(
    processed_dir: str | os.PathLike[str],
    *,
    n_boot: int = DEFAULT_N_BOOT,
    n_perm: int = DEFAULT_N_PERM,
    seed: int = DEFAULT_SEED,
    scope: str | None = None,
) -> Path:
    """Fit every model on the panel of ``processed_dir`` and write
    ``model_summary.json`` there atomically (temporary file + ``os.replace``),
    validated against the schema first. A panel of another ``scope`` (default
    ``$COVERAGE_ANALYSIS_SCOPE``, else ``region``) is refused in one line; the scope is
    recorded in the summary. National scope: the pooled fit of
    :func:`model_summary` on all districts (the seam where ``models/national.py`` goes)."""
    from coverage_analysis import config

    folder = Path(processed_dir)
    from coverage_analysis.io.generation import REPORT_KEY, folder_generation

    scope = config.activate_scope(config.resolve_scope(scope))
    panel_path = folder / PANEL_NAME
    if panel_path.is_file():
        config.check_scope(
            config.recorded_scope(panel_path), scope, str(panel_path), "coverage-analysis panel"
        )
    panel = load_panel(folder)
    summary = model_summary(panel, n_boot=n_boot, n_perm=n_perm, seed=seed)
    summary["scope"] = scope
    generation = folder_generation(folder)
    if generation is not None:  # the generation of the cleaned tables it was fitted on
        summary[REPORT_KEY] = generation
    target = write_json(summary, folder / SUMMARY_NAME, strict=True)
    log.info("model summary written to %s", target)
    return target
