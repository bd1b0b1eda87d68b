"""Reports: batch execution of the notebooks, HTML/PDF export, index and manifest.

``run_reports(processed_dir, out_dir, ...)`` is the entry point (the CLI's
``report`` command); :mod:`coverage_analysis.report.sections` declares what the
notebooks display, :mod:`~coverage_analysis.report.context` loads what they show,
:mod:`~coverage_analysis.report.render` turns it into HTML with numbers in the report's
locale, :mod:`~coverage_analysis.report.catalog` holds every word in English and Russian,
and :mod:`~coverage_analysis.report.params` validates every parameter before anything runs.

The names below are loaded lazily, so importing one submodule (the catalog, the CLI's
``--help``) does not import pandas, matplotlib or the Jupyter stack.

>>> from coverage_analysis.report import validate_params
>>> validate_params(["semey"]).districts
('semey',)
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: Public name -> module that defines it.
_EXPORTS: dict[str, str] = {
    "Manifest": "coverage_analysis.report.manifest",
    "ReportEntry": "coverage_analysis.report.manifest",
    "ReportParams": "coverage_analysis.report.params",
    "validate_params": "coverage_analysis.report.params",
    "run_reports": "coverage_analysis.report.runner",
    "BatchInterrupted": "coverage_analysis.report.runner",
    "is_synthetic": "coverage_analysis.report.context",
    "load_context": "coverage_analysis.report.context",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'coverage_analysis.report' has no attribute {name!r}")
