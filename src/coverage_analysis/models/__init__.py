"""Statistical models of coverage against applications and amounts.

Public API:

- :func:`fit_coverage_model` -> :class:`CoverageModelResult`: PPML with district
  and month effects and population exposure, carry-over decay chosen out of
  sample, wild cluster score bootstrap (Webb weights), placebo with next
  month's coverage.
- :func:`fit_channel_models` -> :class:`ChannelModelResult`: one slope per
  channel group, Holm-adjusted, with a collinearity report.
- :func:`district_effects` (DataFrame for a forest plot), :func:`what_if`,
  :func:`cross_section`, :func:`diagnostics`.
- :func:`write_model_summary` (the ``coverage-analysis model`` command),
  :func:`model_summary`, :func:`load_panel`.
- :func:`simulate_panel`: simulated panels with a known truth.
- :class:`InsufficientDataError`: too few usable district-months (a
  :class:`~coverage_analysis.errors.CoverageAnalysisError`).
- :func:`adstock`, :func:`coverage_index`, :func:`grouped_coverage_index`.

>>> from coverage_analysis.models import fit_coverage_model, simulate_panel
>>> fit_coverage_model(simulate_panel("null", seed=0), n_boot=99).n_clusters
19
"""

from coverage_analysis.models.adstock import adstock, coverage_index, grouped_coverage_index
from coverage_analysis.models.channels import ChannelModelResult, fit_channel_models
from coverage_analysis.models.coverage import (
    CoverageModelResult,
    InsufficientDataError,
    fit_coverage_model,
)
from coverage_analysis.models.diagnostics import diagnostics
from coverage_analysis.models.districts import cross_section, district_effects, what_if
from coverage_analysis.models.simulate import simulate_panel
from coverage_analysis.models.summary import load_panel, model_summary, write_model_summary

__all__ = [
    "ChannelModelResult",
    "CoverageModelResult",
    "InsufficientDataError",
    "adstock",
    "coverage_index",
    "cross_section",
    "diagnostics",
    "district_effects",
    "fit_channel_models",
    "fit_coverage_model",
    "grouped_coverage_index",
    "load_panel",
    "model_summary",
    "simulate_panel",
    "what_if",
    "write_model_summary",
]
