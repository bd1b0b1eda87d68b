"""Every default path of the project, in one place.

Paths resolve in this order: an explicit argument (the CLI's ``--raw``,
``--processed``, ``--out`` options), then an environment variable, then a
folder under the project root.

=========================  ==============================  ==================
what                       environment variable            default
=========================  ==============================  ==================
project root               ``COVERAGE_ANALYSIS_ROOT``      nearest folder above the
                                                           working directory holding
                                                           ``pyproject.toml`` (else cwd)
raw spreadsheets           ``COVERAGE_ANALYSIS_RAW``       ``<root>/data/raw``
cleaned tables, panel      ``COVERAGE_ANALYSIS_PROCESSED`` ``<root>/data/processed``
reports                    ``COVERAGE_ANALYSIS_REPORTS``   ``<root>/reports``
figures                    ``COVERAGE_ANALYSIS_FIGURES``   ``<root>/figures``
notebooks                  ``COVERAGE_ANALYSIS_NOTEBOOKS`` the templates shipped inside the
                                                           package (``coverage_analysis/report/
                                                           notebooks``; ``notebooks/`` of a
                                                           checkout is a link to them)
=========================  ==============================  ==================

The Dask scheduler of the ``report`` and ``clean`` batches resolves the same way:
``--scheduler``, then ``COVERAGE_ANALYSIS_SCHEDULER``, else none (the local pool).

Importing this module has no side effects: nothing is created or read.

>>> from pathlib import Path
>>> resolve_dir("raw", "/tmp/x") == Path("/tmp/x")
True
"""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variables that override the default folders.
ENV_VARS: dict[str, str] = {
    "root": "COVERAGE_ANALYSIS_ROOT",
    "raw": "COVERAGE_ANALYSIS_RAW",
    "processed": "COVERAGE_ANALYSIS_PROCESSED",
    "reports": "COVERAGE_ANALYSIS_REPORTS",
    "figures": "COVERAGE_ANALYSIS_FIGURES",
    "notebooks": "COVERAGE_ANALYSIS_NOTEBOOKS",
}

#: Folder of the notebook templates inside the ``coverage_analysis.report`` package: the one
#: source of truth (``notebooks/`` of a checkout is a symbolic link to it).
PACKAGED_NOTEBOOKS = "notebooks"

#: Default folder of each kind, relative to the project root.
DEFAULT_SUBDIRS: dict[str, str] = {
    "raw": "data/raw",
    "processed": "data/processed",
    "reports": "reports",
    "figures": "figures",
}


def project_root() -> Path:
    """The project root: ``$COVERAGE_ANALYSIS_ROOT``, else the nearest folder
    above the working directory that holds ``pyproject.toml``, else the
    working directory."""
    env = os.environ.get(ENV_VARS["root"])
    if env:
        return Path(env).expanduser().resolve()
    cwd = Path.cwd().resolve()
    for folder in (cwd, *cwd.parents):
        if (folder / "pyproject.toml").is_file() and (
            folder / "src" / "coverage_analysis"
        ).is_dir():
            return folder
    return cwd


def resolve_dir(kind: str, explicit: str | os.PathLike[str] | None = None) -> Path:
    """The folder of ``kind`` (``raw``, ``processed``, ``reports``, ``figures``,
    ``notebooks``): the explicit value if given, else its environment
    variable, else the default (under the project root; the notebooks: inside the
    installed package)."""
    if kind not in ENV_VARS or kind == "root":
        raise KeyError(f"unknown folder kind {kind!r}; known: {sorted(ENV_VARS)}")
    if explicit is not None and str(explicit) != "":
        return Path(explicit).expanduser()
    env = os.environ.get(ENV_VARS[kind])
    if env:
        return Path(env).expanduser()
    if kind == "notebooks":
        return packaged_notebooks_dir()
    return project_root() / DEFAULT_SUBDIRS[kind]


def raw_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Folder of raw spreadsheets (never edited by the package)."""
    return resolve_dir("raw", explicit)


def processed_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Folder of cleaned tables, the panel and the model summary."""
    return resolve_dir("processed", explicit)


def reports_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Folder of HTML/PDF reports, executed notebooks and the manifest."""
    return resolve_dir("reports", explicit)


def figures_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Folder where figures are saved as PNG and SVG."""
    return resolve_dir("figures", explicit)


def notebooks_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Folder of the papermill notebook templates (default: the ones inside the package)."""
    return resolve_dir("notebooks", explicit)


def packaged_notebooks_dir() -> Path:
    """The notebook templates shipped inside the installed package, found with
    :mod:`importlib.resources` (works from any working directory, editable or not).

    >>> (packaged_notebooks_dir() / "district_report.ipynb").is_file()
    True
    """
    from importlib.resources import files

    return Path(os.fspath(files("coverage_analysis.report") / PACKAGED_NOTEBOOKS))


#: Environment variable naming the Dask scheduler (``tcp://host:8786``) of the batches.
SCHEDULER_ENV = "COVERAGE_ANALYSIS_SCHEDULER"


def scheduler_address(explicit: str | None = None) -> str | None:
    """The Dask scheduler the ``report`` and ``clean`` batches run on: the explicit
    value if given, else ``$COVERAGE_ANALYSIS_SCHEDULER``, else ``None`` (run locally).

    >>> scheduler_address("tcp://10.0.0.5:8786")
    'tcp://10.0.0.5:8786'
    """
    if explicit is not None and explicit.strip():
        return explicit.strip()
    env = os.environ.get(SCHEDULER_ENV, "").strip()
    return env or None
