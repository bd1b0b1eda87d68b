"""Statistical models of coverage against applications and amounts.

Public API:

- :func:`fit_coverage_model` -> :class:`CoverageModelResult` (PPML with district
  and month effects, decay chosen out of sample, wild cluster score bootstrap,
  placebo with next month's coverage).
- :func:`simulate_panel` simulated panels with a known truth.
- :func:`adstock`, :func:`coverage_index`, :func:`grouped_coverage_index`.

>>> from coverage_analysis.models import fit_coverage_model, simulate_panel
>>> fit_coverage_model(simulate_panel("null", seed=0), n_boot=99).n_clusters
19
"""

from coverage_analysis.models.adstock import adstock, coverage_index, grouped_coverage_index
from coverage_analysis.models.coverage import CoverageModelResult, fit_coverage_model
from coverage_analysis.models.simulate import simulate_panel

__all__ = [
    "CoverageModelResult",
    "adstock",
    "coverage_index",
    "fit_coverage_model",
    "grouped_coverage_index",
    "simulate_panel",
]
