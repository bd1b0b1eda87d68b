"""coverage-analysis: media coverage of the 2014-2016 legalization campaign.

The public surface, loaded lazily so that ``import coverage_analysis`` stays cheap:

- :func:`write_sample` — the synthetic sample raw data set;
- :func:`clean_folder` — raw spreadsheets to cleaned, validated tables;
- :func:`load_tables` — the cleaned tables of a processed folder;
- :func:`build_panel` — the district x month panel;
- :func:`district_indicators`, :func:`district_rating`, :func:`gap_findings`,
  :func:`akim_briefing` — coverage indicators, rating, gaps, briefing;
- :func:`fit_coverage_model` — coverage against applications and amounts;
- :func:`run_reports` — the batch of notebooks exported to HTML and PDF.

>>> import coverage_analysis
>>> callable(coverage_analysis.build_panel)
True
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

#: Public name -> module that defines it.
_EXPORTS: dict[str, str] = {
    "write_sample": "coverage_analysis.sample",
    "clean_folder": "coverage_analysis.clean",
    "load_tables": "coverage_analysis.tables",
    "build_panel": "coverage_analysis.panel",
    "write_panel": "coverage_analysis.panel",
    "district_indicators": "coverage_analysis.metrics",
    "district_rating": "coverage_analysis.metrics",
    "rating_sensitivity": "coverage_analysis.metrics",
    "gap_findings": "coverage_analysis.metrics",
    "akim_briefing": "coverage_analysis.metrics",
    "fit_coverage_model": "coverage_analysis.models",
    "write_model_summary": "coverage_analysis.models",
    "run_reports": "coverage_analysis.report",
}

__all__ = [*sorted(_EXPORTS), "__version__"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'coverage_analysis' has no attribute {name!r}")
