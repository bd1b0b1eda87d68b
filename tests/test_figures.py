"""Figures: every plot_* returns Axes, labels are complete, Kazakh letters render."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib
import matplotlib.colors
import matplotlib.dates

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.axes import Axes

from coverage_analysis import domain, figures
from coverage_analysis.reference import load_districts

KAZAKH_LETTERS = "ә ғ қ ң ө ұ ү һ і Ә Ғ Қ Ң Ө Ұ Ү Һ І"


@pytest.fixture
def districts() -> pd.DataFrame:
    d = load_districts()
    return d.assign(
        name=d["name_kk"],
        score=range(len(d)),
        coverage_per_10k=[1.0 + i for i in range(len(d))],
        applications_per_10k=[2.0 + 0.5 * i for i in range(len(d))],
        planned=[10.0] * len(d),
        actual=[float(i) for i in range(len(d))],
        estimate=[0.01 * i for i in range(len(d))],
        ci_low=[0.01 * i - 0.1 for i in range(len(d))],
        ci_high=[0.01 * i + 0.1 for i in range(len(d))],
    )


def _calendar_frame() -> pd.DataFrame:
    months = domain.campaign_months()
    return pd.DataFrame(
        {
            "month": months,
            "materials_print": range(len(months)),
            "materials_social": [3] * len(months),
        }
    )


def _all_plots(districts: pd.DataFrame, lang: str, synthetic: bool) -> list[Axes]:
    heat = districts.set_index("name")[[]].assign(print=1.0, tv=0.0, social=2.5)
    return [
        figures.plot_calendar(_calendar_frame(), lang=lang, synthetic=synthetic),
        figures.plot_district_ranking(districts, lang=lang, synthetic=synthetic),
        figures.plot_channel_heatmap(heat, lang=lang, synthetic=synthetic),
        figures.plot_plan_vs_actual(districts, lang=lang, synthetic=synthetic),
        figures.plot_coverage_vs_applications(districts, lang=lang, synthetic=synthetic),
        figures.plot_adstock_curve(0.4, lang=lang, synthetic=synthetic),
        figures.plot_fitted_relation(
            {
                "coverage_index": [0.0, 1.0],
                "relative_expected": [1.0, 1.2],
                "ci_low": [1.0, 1.1],
                "ci_high": [1.0, 1.3],
            },
            lang=lang,
            synthetic=synthetic,
        ),
        figures.plot_forest(
            districts,
            lang=lang,
            synthetic=synthetic,
            pooled={"estimate": 0.1, "ci_low": 0.0, "ci_high": 0.2},
        ),
        figures.plot_district_map(districts, lang=lang, synthetic=synthetic),
        figures.plot_decay_search(
            pd.DataFrame({"decay": [0.0, 0.3, 0.6], "criterion": [3.0, 2.0, 2.5]}),
            lang=lang,
            synthetic=synthetic,
            chosen=0.3,
        ),
        figures.plot_residuals_by_month(
            pd.DataFrame({"month": _calendar_frame()["month"], "residual": 0.1}),
            lang=lang,
            synthetic=synthetic,
        ),
    ]


def test__plot_functions__return_axes_with_synthetic_note_in_both_languages(
    districts: pd.DataFrame,
) -> None:
    for lang in figures.LANGS:
        for ax in _all_plots(districts, lang, synthetic=True):
            assert isinstance(ax, Axes)
            texts = [t.get_text() for t in ax.figure.texts]
            assert figures.label("synthetic", lang) in texts
        plt.close("all")


def test__plot_functions__no_note_without_flag(districts: pd.DataFrame) -> None:
    ax = figures.plot_district_ranking(districts, synthetic=False)
    assert not ax.figure.texts
    plt.close("all")


def test__plots__render_kazakh_letters_without_missing_glyphs(
    districts: pd.DataFrame, tmp_path: Path
) -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*[Gg]lyph.*")
        ax = figures.plot_district_map(districts, lang="ru")  # Kazakh district names
        ax.set_title(KAZAKH_LETTERS)
        paths = figures.save_figure(ax.figure, "kazakh", tmp_path)
    assert [p.name for p in paths] == ["kazakh.png", "kazakh.svg"]
    assert all(p.stat().st_size > 1000 for p in paths)
    assert KAZAKH_LETTERS.split()[0] in paths[1].read_text(encoding="utf-8")
    plt.close("all")


def test__labels__complete_in_english_and_russian() -> None:
    assert set(figures.LABELS["en"]) == set(figures.LABELS["ru"])
    for lang in figures.LANGS:
        assert set(domain.CHANNELS) <= set(figures.CHANNEL_LABELS[lang])
        assert all(v.strip() for v in figures.LABELS[lang].values())


def test__save_figure__refuses_path_like_names(tmp_path: Path) -> None:
    fig, _ = plt.subplots()
    for bad in ("../x", "a/b", "ру", ""):
        with pytest.raises(ValueError):
            figures.save_figure(fig, bad, tmp_path)
    plt.close("all")


def test__plot_calendar__marks_both_deadlines() -> None:
    ax = figures.plot_calendar(_calendar_frame(), lang="en")
    labels = ax.get_legend_handles_labels()[1]
    assert figures.label("first_deadline") in labels
    assert figures.label("final_deadline") in labels
    plt.close("all")


@pytest.mark.parametrize("lang", ["en", "ru"])
def test__plot_calendar__shades_the_months_no_registry_reported(lang: str) -> None:
    months = pd.to_datetime(["2015-01-01", "2015-02-01", "2015-03-01", "2015-04-01"])
    panel = pd.DataFrame(
        {
            "month": months.repeat(2),
            "district_id": ["a", "b"] * 4,
            "is_reported": [True, True, False, False, False, True, False, False],
            "materials_tv": [1.0, 2.0, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0],
        }
    )
    unreported = figures.unreported_months(panel)
    assert unreported == [pd.Timestamp("2015-02-01"), pd.Timestamp("2015-04-01")]
    ax = figures.plot_calendar(panel, lang=lang, unreported=unreported)
    grey = [
        p
        for p in ax.patches
        if matplotlib.colors.to_hex(p.get_facecolor()) == figures.UNREPORTED_COLOUR
    ]
    assert len(grey) == 2
    spans = sorted(matplotlib.dates.num2date(p.get_x()).date() for p in grey)
    assert [s.month for s in spans] == [1, 3]  # half a month before February and April
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert figures.label("unreported", lang) in legend
    assert legend.count(figures.label("unreported", lang)) == 1
    plt.close("all")
