"""The record of a batch of reports: ``manifest.json`` and ``index.html``.

>>> m = Manifest(entries=[ReportEntry("region", "region_overview", None, {}, {}, "ok")])
>>> m.all_ok, m.summary_text().splitlines()[0]
(True, '1 report(s): 1 ok, 0 failed')
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from markupsafe import Markup

from coverage_analysis.report.export import jinja_env, report_css

#: Status of a report that was produced.
STATUS_OK = "ok"
#: Status of a report the batch did not finish because it was stopped (Ctrl-C, SIGTERM).
STATUS_INTERRUPTED = "interrupted"
#: File name of the manifest in the reports folder.
MANIFEST_FILE = "manifest.json"
#: File name of the index page in the reports folder.
INDEX_FILE = "index.html"


class _IndexText(dict):
    """``INDEX_TEXT[lang][key]``: the ``index`` group of the message catalog."""

    def __missing__(self, lang: str) -> dict[str, str]:
        from coverage_analysis.report.catalog import words

        return words("index", lang)

    def get(self, lang: str, default: object = None) -> dict[str, str]:  # type: ignore[override]
        return self[lang]


#: Words of the index page (``report/messages.json``, group ``index``).
INDEX_TEXT: dict[str, dict[str, str]] = _IndexText()


@dataclass
class ReportEntry:
    """One notebook run and its exports."""

    name: str
    notebook: str
    district_id: str | None
    parameters: dict[str, object]
    outputs: dict[str, str]
    status: str = STATUS_OK
    title: str = ""
    seconds: float = 0.0
    #: Runs of the notebook (2 when its kernel died once and it ran again in a fresh one).
    attempts: int = 1
    #: Why the first run failed when the notebook was run once more (e.g. the kernel died).
    first_failure: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the report was produced."""
        return self.status == STATUS_OK

    @property
    def interrupted(self) -> bool:
        """Whether the batch was stopped before this report was finished."""
        return self.status == STATUS_INTERRUPTED


@dataclass
class Manifest:
    """Every report of a batch with its parameters, outputs and status."""

    entries: list[ReportEntry] = field(default_factory=list)
    out_dir: Path | None = None
    parameters: dict[str, object] = field(default_factory=dict)
    seconds: float = 0.0
    tables: dict[str, str] = field(default_factory=dict)
    #: The executor that ran the batch (the local pool and its worker count).
    executor: str = ""
    #: The signal that stopped the batch (``"SIGINT"``, ``"SIGTERM"``), ``None`` when it ran out.
    interrupted: str | None = None
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def all_ok(self) -> bool:
        """True when every report was produced."""
        return all(e.ok for e in self.entries)

    @property
    def failed(self) -> list[ReportEntry]:
        """Entries whose status is an error."""
        return [e for e in self.entries if not e.ok]

    def summary_text(self) -> str:
        """A short plain-text summary: counts, then one line per failure."""
        n_ok = sum(e.ok for e in self.entries)
        n_stopped = sum(e.interrupted for e in self.entries)
        line = f"{len(self.entries)} report(s): {n_ok} ok, {len(self.entries) - n_ok - n_stopped} failed"
        lines = [line + (f", {n_stopped} interrupted" if n_stopped else "")]
        if self.interrupted:
            lines.append(f"batch stopped by {self.interrupted}")
        if self.out_dir is not None:
            lines.append(f"index: {Path(self.out_dir) / INDEX_FILE}")
        lines.extend(
            f"FAILED {e.name}: {e.status.splitlines()[0][:300]}"
            for e in self.failed
            if not e.interrupted
        )
        lines.extend(
            f"RAN TWICE {e.name}: {e.first_failure.splitlines()[0][:300]}"
            for e in self.entries
            if e.ok and e.first_failure
        )
        if self.seconds:
            lines.append(f"time: {self.seconds:.1f} s")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (what ``manifest.json`` holds)."""
        return {
            "created": self.created,
            "parameters": self.parameters,
            "executor": self.executor,
            "interrupted": self.interrupted,
            "all_ok": self.all_ok,
            "seconds": round(self.seconds, 2),
            "reports": [asdict(e) for e in self.entries],
            "tables": self.tables,
        }

    def write(self, out_dir: str | os.PathLike[str], lang: str = "en") -> tuple[Path, Path]:
        """Write ``manifest.json`` and ``index.html`` to ``out_dir``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        manifest_path = out / MANIFEST_FILE
        manifest_path.write_text(
            json.dumps(self.to_dict(), ensure_ascii=False, indent=2, default=str), encoding="utf-8"
        )
        index_path = out / INDEX_FILE
        index_path.write_text(self.index_html(lang), encoding="utf-8")
        return manifest_path, index_path

    def index_html(self, lang: str = "en") -> str:
        """The index page linking every report with its status (all text escaped)."""
        words = INDEX_TEXT.get(lang, INDEX_TEXT["en"])
        rows = []
        for e in self.entries:
            links = [(kind, Path(path).as_posix()) for kind, path in sorted(e.outputs.items())]
            if e.interrupted:
                status = words["interrupted"]
            elif not e.ok:
                status = f"{words['failed']}: {e.status[:500]}"
            elif e.first_failure:
                status = f"{words['ok']} ({words['retried']}: {e.first_failure[:300]})"
            else:
                status = words["ok"]
            rows.append(
                {
                    "title": e.title or e.name,
                    "ok": e.ok,
                    "status": status,
                    "links": links,
                    "seconds": f"{e.seconds:.1f}",
                }
            )
        n_ok = sum(e.ok for e in self.entries)
        params_text = ", ".join(f"{k}={v}" for k, v in self.parameters.items())
        if self.interrupted:
            params_text = f"{words['stopped']} ({self.interrupted}). {params_text}"
        return (
            jinja_env()
            .get_template("index.html.j2")
            .render(
                lang=lang,
                title=words["title"],
                css=Markup(report_css()),
                generated_label=words["generated"],
                generated=self.created,
                params_label=words["params"],
                params_text=params_text,
                summary=f"{n_ok} / {len(self.entries)} {words['ok']}",
                headers=[words["report"], words["status"], words["files"], words["seconds"]],
                rows=rows,
            )
        )
