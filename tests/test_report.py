"""Batch reports: notebooks really executed, HTML and PDF really exported and parsed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pypdf
import pytest

from coverage_analysis.config import packaged_notebooks_dir
from coverage_analysis.errors import ParameterError
from coverage_analysis.io.writers import neutralise_frame
from coverage_analysis.report import (
    Manifest,
    ReportEntry,
    load_context,
    run_reports,
    sections,
    validate_params,
)
from coverage_analysis.report.export import notebook_html, write_csv
from coverage_analysis.report.sections import TEXT, table_html

NOTEBOOKS = packaged_notebooks_dir()
#: Two districts of the reference used for the batch tests.
TWO_DISTRICTS = ["ayagoz", "semey"]
#: Russian words that must appear in a Russian PDF.
RUSSIAN_WORDS = ("Аягоз", "Основные показатели", "Качество данных")
#: Markers of code cells in nbconvert HTML.
CODE_MARKERS = ("load_context(", "jp-InputArea", "input_area", "highlight-ipynb", "In&nbsp;[")


def _pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(path).pages)


@pytest.fixture(scope="module")
def batch_ru(
    sample_processed: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Manifest]:
    out = tmp_path_factory.mktemp("reports_ru")
    manifest = run_reports(
        sample_processed,
        out,
        districts=TWO_DISTRICTS,
        jobs=2,
        lang="ru",
        formats=("html", "pdf"),
        figures_dir=out / "figures",
    )
    return out, manifest


@pytest.mark.slow
def test__run_reports__region_and_two_districts_all_ok(batch_ru: tuple[Path, Manifest]) -> None:
    out, manifest = batch_ru
    assert manifest.all_ok, manifest.summary_text()
    names = [e.name for e in manifest.entries]
    assert names == ["region_overview", "model_diagnostics", "district_ayagoz", "district_semey"]
    data = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert data["all_ok"] is True
    assert data["parameters"]["lang"] == "ru"
    for entry in data["reports"]:
        assert entry["status"] == "ok"
        assert entry["parameters"]["lang"] == "ru"
        for rel in entry["outputs"].values():
            assert (out / rel).is_file() and (out / rel).stat().st_size > 0
    index = (out / "index.html").read_text(encoding="utf-8")
    for entry in data["reports"]:
        assert f'href="{entry["outputs"]["pdf"]}"' in index
    assert len(list((out / "notebooks").glob("*.ipynb"))) == 4
    assert data["tables"] == {"district_rating": "district_rating.csv"}
    rating = pd.read_csv(out / "district_rating.csv", encoding="utf-8-sig")
    assert len(rating) == 19 and "Аягозский район" in set(rating["name"])
    assert list((out / "figures").glob("region_*.png")) and list((out / "figures").glob("*.svg"))


@pytest.mark.slow
def test__run_reports__html_without_code_and_with_embedded_figure(
    batch_ru: tuple[Path, Manifest],
) -> None:
    out, _ = batch_ru
    for name in ("region_overview", "district_ayagoz", "model_diagnostics"):
        html = (out / f"{name}.html").read_text(encoding="utf-8")
        assert not any(marker in html for marker in CODE_MARKERS), name
        assert "data:image/png;base64," in html
        assert "DejaVu Sans" in html
    executed = nbformat.read(out / "notebooks" / "district_ayagoz.ipynb", as_version=4)
    assert executed.metadata["papermill"]["parameters"]["district_id"] == "ayagoz"


@pytest.mark.slow
def test__run_reports__pdf_is_russian_with_synthetic_notice_and_images(
    batch_ru: tuple[Path, Manifest],
) -> None:
    out, _ = batch_ru
    text = _pdf_text(out / "district_ayagoz.pdf")
    for word in RUSSIAN_WORDS:
        assert word in text, word
    assert "Синтетические демонстрационные данные" in text
    reader = pypdf.PdfReader(out / "region_overview.pdf")
    assert sum(len(page.images) for page in reader.pages) >= 3
    assert reader.pages[0].mediabox.width == pytest.approx(595, abs=2)  # A4


@pytest.mark.slow
def test__run_reports__one_failure_does_not_stop_the_others(
    sample_processed: Path, tmp_path: Path
) -> None:
    notebooks = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, notebooks)
    broken = nbformat.read(notebooks / "district_report.ipynb", as_version=4)
    broken.cells.append(nbformat.v4.new_code_cell('raise RuntimeError("<boom>")'))
    nbformat.write(broken, notebooks / "district_report.ipynb")
    manifest = run_reports(
        sample_processed,
        tmp_path / "out",
        districts=["ridder"],
        jobs=1,
        formats=("html",),
        notebooks_dir=notebooks,
    )
    assert not manifest.all_ok
    status = {e.name: e.status for e in manifest.entries}
    assert status["region_overview"] == "ok"
    assert "RuntimeError" in status["district_ridder"] and "<boom>" in status["district_ridder"]
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "&lt;boom&gt;" in index and "<boom>" not in index
    assert "FAILED district_ridder" in manifest.summary_text()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"districts": ['ayagoz"; rm -rf /']},
        {"districts": ["ayagoz\n"]},
        {"districts": ["Аягоз"]},
        {"districts": ["../ayagoz"]},
        {"start_month": "2016-13"},
        {"end_month": "2017-01"},
        {"start_month": "2016-05", "end_month": "2016-01"},
        {"lang": "kk"},
        {"formats": ("html", "docx")},
        {"jobs": 0},
    ],
)
def test__run_reports__awkward_parameters_refused_before_anything_runs(
    kwargs: dict, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    with pytest.raises(ParameterError) as info:
        run_reports(tmp_path, out, **kwargs)
    bad = next(iter(kwargs.values()))
    shown = bad[0] if isinstance(bad, list) else bad
    if isinstance(shown, tuple):
        shown = shown[-1]
    assert repr(shown) in str(info.value) or str(shown) in str(info.value)
    assert not out.exists()


def test__validate_params__defaults_to_every_district() -> None:
    assert len(validate_params().districts) == 19


def test__index_and_html__escape_data_derived_text() -> None:
    entry = ReportEntry("x", "n.ipynb", None, {}, {"html": "x.html"}, "ok", title="<script>")
    page = Manifest(entries=[entry]).index_html()
    assert "&lt;script&gt;" in page and "<script>" not in page
    nb = nbformat.v4.new_notebook()
    assert "<title>&lt;script&gt;</title>" in notebook_html(nb, "<script>")
    assert "&lt;script&gt;" in table_html(pd.DataFrame({"title": ["<script>alert(1)</script>"]}))


def test__csv_export__neutralises_formula_cells(tmp_path: Path) -> None:
    frame = pd.DataFrame({"value": ["=1+1", "+7", "-2", "@SUM(A1)", "Аягоз"], "n": [1, 2, 3, 4, 5]})
    assert neutralise_frame(frame)["value"].tolist() == [
        "'=1+1",
        "'+7",
        "'-2",
        "'@SUM(A1)",
        "Аягоз",
    ]
    path = write_csv(frame, tmp_path / "x.csv")
    assert pd.read_csv(path, encoding="utf-8-sig")["value"].str.startswith("'").sum() == 4


def test__sections__say_model_not_available_with_the_reason(tmp_path: Path) -> None:
    pubs = pd.DataFrame(
        {
            "district_id": ["ayagoz", "semey"],
            "month": pd.to_datetime(["2016-01-01", "2016-02-01"]),
            "channel": ["print", "tv"],
            "source_file": ["a.xlsx", "a.xlsx"],
            "source_sheet": ["Лист1", "Лист1"],
        }
    )
    pubs.to_parquet(tmp_path / "publications.parquet")
    ctx = load_context(tmp_path, lang="en")
    html = sections.model_section(ctx, "ayagoz")._repr_html_()
    assert "Model not available: " in html
    assert "Not available" in sections.whatif_section(ctx, "ayagoz")._repr_html_()
    assert "Ayagoz" in sections.header(ctx, "district", "ayagoz")._repr_html_()
    with pytest.raises(ParameterError):
        sections.header(ctx, "district", "nowhere")


def test__texts__complete_in_english_and_russian() -> None:
    assert set(TEXT["en"]) == set(TEXT["ru"])


def _html_text(path: Path) -> str:
    import html as html_module
    import re

    page = path.read_text(encoding="utf-8")
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.DOTALL | re.IGNORECASE)
    return html_module.unescape(re.sub(r"<[^>]+>", " ", page))


def _english_fragments() -> set[str]:
    """Every piece of English catalog text (split at its ``{}`` fields) that the Russian
    text of the same key does not share, long enough to be a phrase, not a symbol."""
    import re

    from coverage_analysis.report.catalog import catalog

    out = set()
    for entries in catalog().values():
        for texts in entries.values():
            for piece in re.split(r"\{[^}]*\}", texts["en"]):
                piece = piece.strip(" .,:;()")
                if (
                    len(piece) >= 8
                    and re.search(r"[A-Za-z]{4}", piece)
                    and piece not in texts["ru"]
                ):
                    out.add(piece)
    return out


@pytest.mark.slow
def test__ru_reports__russian_numbers_and_no_english_catalog_text(
    batch_ru: tuple[Path, Manifest],
) -> None:
    """Every Russian report, as HTML text and as PDF text: numbers grouped with the locale's
    separator and a decimal comma (``10 705,9``), percents as ``47 %``, months named in
    Russian, no English catalog text and no catalog key."""
    import re

    from babel.numbers import get_group_symbol

    from coverage_analysis.report.catalog import catalog

    out, manifest = batch_ru
    group = get_group_symbol("ru")
    english = _english_fragments()
    keys = {k for entries in catalog().values() for k in entries if "_" in k}
    assert english and keys
    for entry in manifest.entries:
        for kind, text in (
            ("html", _html_text(out / f"{entry.name}.html")),
            ("pdf", _pdf_text(out / f"{entry.name}.pdf")),
        ):
            where = f"{entry.name}.{kind}"
            leaked = sorted(p for p in english if p in text)
            assert not leaked, f"{where}: English catalog text {leaked[:5]}"
            raw_keys = sorted(k for k in keys if re.search(rf"(?<![\w/.]){k}(?![\w.])", text))
            assert not raw_keys, f"{where}: catalog keys {raw_keys[:5]}"
            assert not re.search(r"\d,\d{3}\.\d", text), f"{where}: English-style number"
            # PDF text extraction may turn the no-break space into a plain space
            separators = re.escape(group) + ("| " if kind == "pdf" else "")
            if entry.name == "district_ayagoz":
                assert re.search(rf"\d(?:{separators})\d{{3}}(?:,\d)?\b", text), where
                assert re.search(r"\d,\d\b", text), f"{where}: no decimal comma"
                assert re.search(rf"\d(?:\u00a0|{separators})%", text), (
                    f"{where}: no '47 %' percent"
                )
            assert "2016" in text and re.search(r"(январь|февраль|декабрь|сентябрь) 201\d", text), (
                where
            )
