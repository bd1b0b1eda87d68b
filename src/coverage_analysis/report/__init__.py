"""Reports: batch execution of the notebooks, HTML/PDF export, index and manifest.

``run_reports(processed_dir, out_dir, ...)`` is the entry point (the CLI's
``report`` command); :mod:`coverage_analysis.report.sections` builds the content
the notebooks display; :mod:`~coverage_analysis.report.params` validates every
parameter before anything runs.

>>> from coverage_analysis.report import validate_params
>>> validate_params(["semey"]).districts
('semey',)
"""

from __future__ import annotations

from coverage_analysis.report.manifest import Manifest, ReportEntry
from coverage_analysis.report.params import ReportParams, validate_params
from coverage_analysis.report.runner import BatchInterrupted, run_reports
from coverage_analysis.report.sections import is_synthetic, load_context

__all__ = [
    "BatchInterrupted",
    "Manifest",
    "ReportEntry",
    "ReportParams",
    "is_synthetic",
    "load_context",
    "run_reports",
    "validate_params",
]
