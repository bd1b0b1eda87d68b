"""The notebooks are thin: a parameters cell, library calls, no definitions, no outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import papermill as pm
import pytest

from coverage_analysis import config
from coverage_analysis.config import packaged_notebooks_dir

NOTEBOOKS = packaged_notebooks_dir()
#: The checkout's notebooks/ folder, what `make lab` opens.
CHECKOUT_NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = (
    "region_overview",
    "district_report",
    "model_diagnostics",
    "national_overview",
    "region_report",
)
#: Extra parameters of a notebook beyond the common ones.
EXTRA_PARAMETERS = {"district_report": {"district_id"}, "region_report": {"region_id"}}
#: Parameters every notebook takes (outputs.md), and the district notebook's extra one.
COMMON_PARAMETERS = {"processed_dir", "start_month", "end_month", "lang", "figures_dir"}


@pytest.mark.parametrize("name", NAMES)
def test__notebook__has_tagged_parameters_cell(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    params = set(pm.inspect_notebook(str(NOTEBOOKS / f"{name}.ipynb")))
    expected = COMMON_PARAMETERS | EXTRA_PARAMETERS.get(name, set())
    assert params == expected
    assert nb.metadata["kernelspec"]["name"] == "python3"  # the standard kernel, no registration


@pytest.mark.parametrize("name", NAMES)
def test__notebook__is_thin_and_stripped(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert cell.outputs == [], f"{name}: committed outputs"
        assert cell.execution_count is None
        for line in cell.source.splitlines():
            stripped = line.strip()
            assert not stripped.startswith(("def ", "class ", "for ", "while ", "if ", "lambda")), (
                f"{name}: logic in the notebook: {line!r}"
            )
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert all(("sections." in src) or ("parameters" in src.lower()) for src in code[1:])


def test__notebooks__one_source_of_truth_shipped_in_the_package() -> None:
    """``notebooks/`` (what ``make lab`` opens) is a link to the package's templates, so
    there is no copy to drift; the default templates folder is the package's."""
    assert CHECKOUT_NOTEBOOKS.is_symlink()
    assert CHECKOUT_NOTEBOOKS.resolve() == NOTEBOOKS.resolve()
    assert NOTEBOOKS.resolve().parent.name == "report"
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == sorted(NAMES)
    assert config.notebooks_dir().resolve() == NOTEBOOKS.resolve()
