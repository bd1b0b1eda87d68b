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
scope                      ``COVERAGE_ANALYSIS_SCOPE``     ``region`` (East Kazakhstan's 19
                                                           units); ``national``: the
                                                           republic's 216 (``--scope``)
=========================  ==============================  ==================

The Dask scheduler of the ``report`` and ``clean`` batches resolves the same way:
``--scheduler``, then ``COVERAGE_ANALYSIS_SCHEDULER``, else none (the local pool).

The scope decides which district reference every step uses (:func:`activate_scope`)
and is recorded in every output's metadata (:data:`SCOPE_KEY`), so a later step given
another scope refuses the folder in one line (:func:`check_scope`).

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

#: Environment variable choosing the scope (``region`` or ``national``).
SCOPE_ENV = "COVERAGE_ANALYSIS_SCOPE"
#: The scope of study: one region (East Kazakhstan, the default) or the whole republic.
SCOPES: tuple[str, ...] = ("region", "national")
#: Scope used when neither ``--scope`` nor :data:`SCOPE_ENV` says otherwise.
DEFAULT_SCOPE = "region"
#: Key of the scope in every output's metadata (Parquet key-value metadata, JSON field).
SCOPE_KEY = "coverage_analysis.scope"

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


def resolve_scope(explicit: str | None = None) -> str:
    """The scope: ``explicit`` (``--scope``) if given, else ``$COVERAGE_ANALYSIS_SCOPE``,
    else :data:`DEFAULT_SCOPE`. An unknown value is a :class:`ParameterError`.

    >>> resolve_scope("national")
    'national'
    """
    from coverage_analysis.errors import ParameterError

    value = explicit if explicit not in (None, "") else os.environ.get(SCOPE_ENV) or DEFAULT_SCOPE
    value = str(value).strip().lower()
    if value not in SCOPES:
        raise ParameterError(f"unknown scope {value!r}; one of {', '.join(SCOPES)}")
    return value


def activate_scope(scope: str) -> str:
    """Make ``scope`` the scope of this process and of the processes it starts (notebook
    kernels, workers): sets :data:`SCOPE_ENV` and, for ``national``, points
    ``COVERAGE_ANALYSIS_DISTRICTS`` at the republic's district reference (216 units,
    ``reference/national_reference.csv``). ``region`` leaves the district reference as it
    is (the shipped East Kazakhstan one, or the user's own). Returns the scope."""
    from coverage_analysis.reference import DISTRICTS_ENV
    from coverage_analysis.reference.national import national_reference_path

    scope = resolve_scope(scope)
    os.environ[SCOPE_ENV] = scope
    national = str(national_reference_path())
    if scope == "national":
        os.environ[DISTRICTS_ENV] = national
    elif os.environ.get(DISTRICTS_ENV) == national:  # back from the national scope
        del os.environ[DISTRICTS_ENV]
    return scope


def check_scope(found: str | None, expected: str, what: str, rerun: str) -> None:
    """Refuse an output made in another scope: one line naming ``what`` (a file), both
    scopes and the command to run again. An output with no recorded scope was made before
    scopes existed, i.e. in the ``region`` scope.

    >>> check_scope("region", "region", "panel.parquet", "coverage-analysis panel")
    >>> try:
    ...     check_scope(None, "national", "panel.parquet", "coverage-analysis panel")
    ... except Exception as exc:
    ...     print(exc)
    panel.parquet was made in the region scope, not national: run coverage-analysis panel --scope national
    """
    from coverage_analysis.errors import ParameterError

    made = found or DEFAULT_SCOPE
    if made != expected:
        raise ParameterError(
            f"{what} was made in the {made} scope, not {expected}: run {rerun} --scope {expected}"
        )


def recorded_scope(path: str | os.PathLike[str]) -> str | None:
    """The scope recorded in an output: the ``scope`` field of a JSON file
    (``cleaning_report.json``, ``model_summary.json``, ``manifest.json``) or the
    :data:`SCOPE_KEY` of a Parquet file's metadata (``panel.parquet``); None when the file
    is absent or records none (made before scopes: the region scope)."""
    target = Path(path)
    if not target.is_file():
        return None
    if target.suffix == ".parquet":
        import pyarrow.parquet as pq

        meta = pq.read_schema(target).metadata or {}
        value = meta.get(SCOPE_KEY.encode())
        return value.decode() if value else None
    import json

    try:
        value = json.loads(target.read_text(encoding="utf-8")).get("scope")
    except (OSError, ValueError, AttributeError):
        return None
    return str(value) if value else None
