"""Notebook templates the batch tests write: small region and diagnostics notebooks
(the batch is what is tested, not their content) and the real district notebook with
one cell of the test's own code right after its parameters."""

from __future__ import annotations

from pathlib import Path

import nbformat

from coverage_analysis import config

#: The kernelspec the package's templates declare.
PYTHON3_KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}


def small_notebook(path: Path, name: str, kernelspec: dict[str, str] | None = None) -> None:
    """A parameterised notebook that prints ``name``, declaring ``kernelspec``."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        'processed_dir = "data/processed"\nstart_month = None\nend_month = None\n'
        'lang = "en"\nfigures_dir = None'
    )
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(f'print("{name}", lang)')]
    nb.metadata["kernelspec"] = dict(kernelspec or PYTHON3_KERNEL)
    nbformat.write(nb, path)


def district_templates(
    folder: Path, district_code: str, kernelspec: dict[str, str] | None = None
) -> Path:
    """``folder`` with small region and diagnostics notebooks and the real district
    notebook running ``district_code`` right after its parameters cell."""
    folder.mkdir()
    small_notebook(folder / "region_overview.ipynb", "region", kernelspec)
    small_notebook(folder / "model_diagnostics.ipynb", "diagnostics", kernelspec)
    nb = nbformat.read(config.notebooks_dir() / "district_report.ipynb", as_version=4)
    where = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(where + 1, nbformat.v4.new_code_cell(district_code))
    nbformat.write(nb, folder / "district_report.ipynb")
    return folder
