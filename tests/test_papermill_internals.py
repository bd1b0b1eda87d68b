"""The warm-kernel engine in ``report/runner.py`` subclasses papermill internals.

papermill's minor version is pinned in ``pyproject.toml`` for that reason; these tests fail
loudly, naming the attribute, when an upgrade changes any internal the runner touches
(``papermill.engines.NBClientEngine``, ``papermill_engines.register``,
``papermill.clientwrap.PapermillNotebookClient`` and the keyword arguments
``execute_notebook`` passes on to an engine).
"""

from __future__ import annotations

import inspect
from importlib.metadata import version

import papermill
import papermill.clientwrap
import papermill.engines
import pytest

#: The papermill minor versions whose internals the runner was written against.
SUPPORTED_MINOR = ("2.7",)


def _params(func: object) -> set[str]:
    return set(inspect.signature(func).parameters)  # type: ignore[arg-type]


def test__papermill__minor_version_is_the_pinned_one() -> None:
    minor = ".".join(version("papermill").split(".")[:2])
    assert minor in SUPPORTED_MINOR, (
        f"papermill {version('papermill')} is installed; report/runner.py's engine was checked "
        f"against {SUPPORTED_MINOR}: re-check the internals below, then widen the pin"
    )


def test__papermill__engine_registry_has_register_and_nbclient_engine() -> None:
    assert hasattr(papermill.engines, "NBClientEngine"), "papermill.engines.NBClientEngine gone"
    registry = papermill.engines.papermill_engines
    assert callable(getattr(registry, "register", None)), "papermill_engines.register gone"
    assert _params(registry.register) >= {"name", "engine"}
    assert callable(getattr(registry, "get_engine", None)), "papermill_engines.get_engine gone"


def test__papermill__execute_managed_notebook_signature() -> None:
    method = papermill.engines.NBClientEngine.execute_managed_notebook
    expected = {
        "nb_man",
        "kernel_name",
        "log_output",
        "stdout_file",
        "stderr_file",
        "start_timeout",
        "execution_timeout",
        "kwargs",
    }
    missing = expected - _params(method)
    assert not missing, f"NBClientEngine.execute_managed_notebook lost {sorted(missing)}"
    assert isinstance(
        inspect.getattr_static(papermill.engines.NBClientEngine, "execute_managed_notebook"),
        classmethod,
    )


def test__papermill__notebook_client_takes_the_arguments_the_runner_passes() -> None:
    client = papermill.clientwrap.PapermillNotebookClient
    init = _params(client.__init__)
    assert {"nb_man", "km"} <= init, f"PapermillNotebookClient.__init__ is now {sorted(init)}"
    # the remaining options are traitlets of nbclient's NotebookClient, passed as keywords
    traits = set(client.class_trait_names()) | init
    for name in (
        "timeout",
        "startup_timeout",
        "kernel_name",
        "log",
        "log_output",
        "stdout_file",
        "stderr_file",
    ):
        assert name in traits, f"PapermillNotebookClient no longer accepts {name!r}"
    assert callable(getattr(client, "execute", None))


def test__papermill__execute_notebook_passes_engine_keywords_through() -> None:
    params = inspect.signature(papermill.execute_notebook).parameters
    for name in (
        "engine_name",
        "kernel_name",
        "progress_bar",
        "request_save_on_cell_execute",
    ):
        assert name in params, f"papermill.execute_notebook lost {name!r}"
    kinds = {p.kind for p in params.values()}
    assert inspect.Parameter.VAR_KEYWORD in kinds, (
        "execute_notebook no longer forwards **engine_kwargs (km=)"
    )


@pytest.mark.parametrize("name", ["stdout_file", "stderr_file", "log_output"])
def test__papermill__client_traits_exist(name: str) -> None:
    assert name in papermill.clientwrap.PapermillNotebookClient.class_trait_names()
