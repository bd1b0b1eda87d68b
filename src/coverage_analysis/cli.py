"""The ``coverage-analysis`` command.

Each stage is a small subcommand taking its folders as options (defaults in
:mod:`coverage_analysis.config`). A failure prints one line on standard
error and exits non-zero; rejected rows are data, not a failure.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from coverage_analysis import config
from coverage_analysis.errors import CoverageAnalysisError

log = logging.getLogger("coverage_analysis")

#: Exit status of a command that could not do its job.
EXIT_FAILURE = 1
#: Exit status of a command given bad options or parameters.
EXIT_USAGE = 2


def _cmd_sample(args: argparse.Namespace) -> int:
    if args.scope == "national":
        from coverage_analysis.sample.national import write_national_sample

        print(write_national_sample(config.raw_dir(args.raw), seed=args.seed, rows=args.rows))
        return 0
    from coverage_analysis.errors import ParameterError

    if args.rows is not None:
        raise ParameterError("--rows scales the national sample only: add --scope national")
    from coverage_analysis.sample import write_sample

    summary = write_sample(config.raw_dir(args.raw), seed=args.seed)
    print(summary)
    return 0


def _cmd_clean(args: argparse.Namespace) -> int:
    from coverage_analysis.clean import clean_folder

    raw = config.raw_dir(args.raw)
    scheduler = config.scheduler_address(args.scheduler)
    if scheduler is None:
        result = clean_folder(raw, config.processed_dir(args.processed), scope=args.scope)
    else:  # each file's cleaning is a task on the Dask cluster
        from coverage_analysis.cluster import DaskFileMapper, connect

        with connect(scheduler) as client:
            result = clean_folder(
                raw, config.processed_dir(args.processed), DaskFileMapper(client), scope=args.scope
            )
    print(result.summary_text())
    if not result.anything_read:
        print(f"coverage-analysis clean: nothing could be read in {raw}", file=sys.stderr)
        return EXIT_FAILURE
    return 0


def _cmd_panel(args: argparse.Namespace) -> int:
    from coverage_analysis.panel import write_panel

    path = write_panel(config.processed_dir(args.processed), scope=args.scope)
    print(f"panel written: {path}")
    return 0


def _cmd_model(args: argparse.Namespace) -> int:
    from coverage_analysis.models import write_model_summary

    path = write_model_summary(config.processed_dir(args.processed), scope=args.scope)
    print(f"model summary written: {path}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from coverage_analysis.report.runner import BatchInterrupted, run_reports

    try:
        manifest = run_reports(
            processed_dir=config.processed_dir(args.processed),
            out_dir=config.reports_dir(args.out),
            districts=args.district or None,
            jobs=args.jobs,
            lang=args.lang,
            formats=tuple(f.strip() for f in args.format.split(",") if f.strip()),
            start_month=args.start_month,
            end_month=args.end_month,
            figures_dir=config.figures_dir(args.figures),
            scope=args.scope,
            regions=args.region or None,
            **({"timeout": args.timeout} if args.timeout is not None else {}),
            scheduler=args.scheduler,
        )
    except BatchInterrupted as stop:  # the manifest and index were still written
        if stop.manifest is not None:
            print(stop.manifest.summary_text())
        print(f"coverage-analysis report: stopped by {stop.signal_name}", file=sys.stderr)
        return stop.exit_status
    print(manifest.summary_text())
    return 0 if manifest.all_ok else EXIT_FAILURE


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``coverage-analysis`` (also used by the docs)."""
    parser = argparse.ArgumentParser(
        prog="coverage-analysis",
        description="Coverage of the 2014-2016 legalization campaign: clean, panel, model, report.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sample", help="write the synthetic sample raw data set")
    p.add_argument("--raw", help="folder to write raw files to (default data/raw)")
    p.add_argument("--seed", type=int, default=2016, help="random seed (default 2016)")
    p.add_argument(
        "--rows",
        type=int,
        default=None,
        metavar="N",
        help="national scope: scale the publication registries to about N rows (benchmarks)",
    )
    p.set_defaults(func=_cmd_sample)

    p = sub.add_parser("clean", help="read raw spreadsheets, write cleaned tables")
    p.add_argument("--raw", help="raw folder (default data/raw)")
    p.add_argument("--processed", help="output folder (default data/processed)")
    _scheduler_option(p, "each input file's cleaning is a task")
    p.set_defaults(func=_cmd_clean)

    p = sub.add_parser("panel", help="build the district x month panel")
    p.add_argument("--processed", help="cleaned tables folder (default data/processed)")
    p.set_defaults(func=_cmd_panel)

    p = sub.add_parser("model", help="fit the coverage models, write model_summary.json")
    p.add_argument("--processed", help="cleaned tables folder (default data/processed)")
    p.set_defaults(func=_cmd_model)

    p = sub.add_parser("report", help="run the notebooks, export HTML and PDF reports")
    p.add_argument("--processed", help="cleaned tables folder (default data/processed)")
    p.add_argument("--out", help="reports folder (default reports)")
    p.add_argument("--figures", help="figures folder (default figures)")
    p.add_argument(
        "--district", action="append", metavar="ID", help="district id (repeatable); default all"
    )
    p.add_argument(
        "--region",
        action="append",
        metavar="ID",
        help="national scope: region id for a region report (repeatable); default all",
    )
    p.add_argument("--jobs", type=int, default=2, help="parallel notebook workers (default 2)")
    p.add_argument("--lang", choices=("en", "ru"), default="en", help="report language")
    p.add_argument("--format", default="html,pdf", help="comma-separated: html,pdf")
    p.add_argument(
        "--start-month", default=None, help="first month YYYY-MM (default campaign start)"
    )
    p.add_argument("--end-month", default=None, help="last month YYYY-MM (default campaign end)")
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="seconds one notebook cell may run before its report fails (default 600)",
    )
    _scheduler_option(p, "each report is a task, one warm kernel per worker")
    p.set_defaults(func=_cmd_report)
    for command in sub.choices.values():
        command.add_argument(
            "--scope",
            choices=config.SCOPES,
            default=None,
            help=f"region (East Kazakhstan) or national (the republic); default "
            f"${config.SCOPE_ENV} or {config.DEFAULT_SCOPE}",
        )
    return parser


def _scheduler_option(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help=f"Dask scheduler, e.g. tcp://host:8786, to run on ({what}; the workers must "
        f"see the folders at the same paths); default ${config.SCHEDULER_ENV}, else local",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``coverage-analysis`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        args.scope = config.activate_scope(config.resolve_scope(args.scope))
        return args.func(args)
    except CoverageAnalysisError as exc:
        print(f"coverage-analysis {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, ValueError) else EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"coverage-analysis {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
