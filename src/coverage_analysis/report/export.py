"""Export of executed notebooks: HTML without code, PDF from that HTML.

The HTML is nbconvert's ``basic`` template (cell outputs only: code, markdown
and prompts excluded) wrapped in the package's page template and stylesheet
(``report/templates``), so the same lean document opens in a browser and
feeds WeasyPrint. The PDF is A4 in DejaVu Sans; figures are embedded base64
PNG images. WeasyPrint fetches nothing from the network: only ``data:``
URLs are allowed.

CSV files go through the package's one formula-neutralising writer
(:func:`coverage_analysis.io.writers.write_csv`).
"""

from __future__ import annotations

import copy
import logging
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, select_autoescape
from markupsafe import Markup

if TYPE_CHECKING:  # imported where used: the runner's import stays fast
    import nbformat
    import pandas as pd

log = logging.getLogger(__name__)

#: Package folder of the HTML/CSS templates.
TEMPLATES_PACKAGE = "coverage_analysis.report"


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``frame`` as UTF-8 CSV with a BOM (for Excel), cells neutralised by the one
    function every CSV of the package goes through (:func:`io.writers.neutralise_frame`)."""
    from coverage_analysis.io.writers import write_csv as write_csv_safe

    return write_csv_safe(frame, path, bom=True)


def template_text(name: str) -> str:
    """Text of a file in ``report/templates``."""
    return resources.files(TEMPLATES_PACKAGE).joinpath("templates", name).read_text("utf-8")


@lru_cache(maxsize=1)
def jinja_env() -> Environment:
    """Jinja environment of the report templates, autoescaping everything."""
    from jinja2 import FunctionLoader

    return Environment(
        loader=FunctionLoader(template_text),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )


@lru_cache(maxsize=1)
def report_css() -> str:
    """The stylesheet of reports and the index."""
    return template_text("report.css")


@lru_cache(maxsize=1)
def _html_exporter():
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name="basic",
        exclude_input=True,
        exclude_markdown=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )


def notebook_html(nb: nbformat.NotebookNode, title: str, lang: str = "en") -> str:
    """A standalone HTML document of ``nb``'s outputs (no code, no markdown cells, no prompts,
    no standard-error streams).

    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("secret_code()")])
    >>> html = notebook_html(nb, "<script>")
    >>> "secret_code" in html, "&lt;script&gt;" in html
    (False, True)
    """
    nb = copy.deepcopy(nb)
    for cell in nb.cells:  # warnings and logs stay in the executed notebook, not the report
        if cell.get("outputs"):
            cell.outputs = [
                o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")
            ]
    body, _ = _html_exporter().from_notebook_node(nb)
    page = jinja_env().get_template("page.html.j2")
    return page.render(title=title, lang=lang, css=Markup(report_css()), body=Markup(body))


#: The only URL scheme WeasyPrint may fetch (embedded images); nothing from the network.
ALLOWED_URL_SCHEMES: tuple[str, ...] = ("data",)


@lru_cache(maxsize=1)
def _url_fetcher():
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=ALLOWED_URL_SCHEMES)


def html_to_pdf(html: str, path: str | os.PathLike[str]) -> Path:
    """Render ``html`` to an A4 PDF at ``path`` with WeasyPrint."""
    import weasyprint

    path = Path(path)
    weasyprint.HTML(string=html, url_fetcher=_url_fetcher()).write_pdf(path)
    return path


def export_notebook(
    notebook_path: str | os.PathLike[str],
    html_path: str | os.PathLike[str] | None,
    pdf_path: str | os.PathLike[str] | None,
    title: str,
    lang: str = "en",
) -> list[Path]:
    """Export an executed notebook to HTML and/or PDF; returns the written paths."""
    import nbformat

    nb = nbformat.read(str(notebook_path), as_version=4)
    html = notebook_html(nb, title, lang)
    written: list[Path] = []
    if html_path is not None:
        Path(html_path).write_text(html, encoding="utf-8")
        written.append(Path(html_path))
    if pdf_path is not None:
        written.append(html_to_pdf(html, pdf_path))
    log.info("exported %s to %s", notebook_path, [str(p) for p in written])
    return written
