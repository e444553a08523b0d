"""`dsjobs` entry point: parse, resolve settings, run one command, map the result to an exit code.

Exit code: the job program's own code for commands that follow a job; 0 for other successes; 1 for our own
errors (one line on stderr, the traceback only with `--log-level DEBUG`); 130 when Ctrl-C detached from a job
(which keeps running: Ctrl-C never cancels, `dsjobs project job cancel --id ID` does).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from dsjobs_lsp.cli.parser import build_parser, split_program_args

if TYPE_CHECKING:
    from dsjobs_lsp.cli.console import ConsolePrinter

# Everything else is imported once the arguments are parsed: `--help` and argument errors import nothing
# beyond argparse (pydantic, grpc, httpx and the protobuf stubs are most of a start's time).

DETACHED_EXIT_CODE = 130


def main(argv: list[str] | None = None) -> int:
    """Run `dsjobs` with `argv` (default: the process arguments) and exit with its code."""
    code = run_cli(sys.argv[1:] if argv is None else argv)
    if argv is None:
        exit_now(code)
    return code


def exit_now(code: int) -> None:
    """Flush what we printed and end the process at once.

    The interpreter's own teardown (freeing every module: gRPC, protobuf, pydantic) costs 0.2-0.5 s after the
    job's end was already shown; nothing of ours needs it (history writes are committed, threads joined).
    """
    import logging

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 1  # e.g. stdout was a pipe closed early: as Python's own exit would report
    os._exit(code)


def run_cli(argv: list[str]) -> int:
    """Everything `main` does, returning the exit code instead of exiting."""
    ours, program = split_program_args(argv)
    args = build_parser().parse_args(ours)
    import logging

    from dsjobs_lsp.cli.console import ConsolePrinter

    if args.command == "run":
        args.args = [*args.args, *program]
    level = logging.WARNING if args.log_level == "WARN" else logging.getLevelName(args.log_level)
    logging.basicConfig(
        level=logging.DEBUG if level <= logging.DEBUG else logging.WARNING,
        format="%(asctime)s - [%(levelname)s] - %(name)s - %(message)s",
    )
    _redact_root_logs()
    printer = ConsolePrinter(level=level)
    _print_core_logs(printer, debug=level <= logging.DEBUG)
    if args.command in ("version", "serve", "local_server"):
        return _local_command(args)
    try:
        return _backend_command(args, printer)
    except KeyboardInterrupt:
        printer.console("interrupted", "warning")
        return DETACHED_EXIT_CODE
    except Exception as error:
        return _report(error, printer, debug=level <= logging.DEBUG)


def _redact_root_logs() -> None:
    """Other libraries' records (httpx logs every request's presigned URL) are masked too."""
    import logging

    from dsjobs_lsp.core.auth.redaction import RedactingFilter

    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


def _print_core_logs(printer: ConsolePrinter, *, debug: bool) -> None:
    """Our loggers' records (e.g. the requirements analysis warnings) become narrative lines on stderr.

    Only warnings and errors, unless `--log-level DEBUG`, which shows everything with the logger's name.
    """
    import logging

    from dsjobs_lsp.cli.console import ConsoleLogHandler
    from dsjobs_lsp.core.auth.redaction import RedactingFilter

    handler = ConsoleLogHandler(printer, logging.DEBUG if debug else logging.WARNING)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s" if debug else "%(message)s"))
    handler.addFilter(RedactingFilter())
    ours = logging.getLogger("dsjobs_lsp")
    for previous in [h for h in ours.handlers if isinstance(h, ConsoleLogHandler)]:
        ours.removeHandler(previous)  # run_cli called again in one process
    ours.addHandler(handler)
    ours.propagate = False


def _local_command(args: argparse.Namespace) -> int:
    if args.command == "version":
        from dsjobs_lsp import __version__

        print(__version__)
        return 0
    if args.command == "serve":
        from dsjobs_lsp.server.main import main as serve

        serve()
        return 0
    return _local_server(args)


def _local_server(args: argparse.Namespace) -> int:
    from dsjobs_lsp.backends.local import main as local_main

    argv = ["--host", args.host, "--port", str(args.port)]
    if args.data_dir:
        argv += ["--data-dir", args.data_dir]
    result = local_main(argv)
    return int(result or 0)


def _backend_command(args: argparse.Namespace, printer: ConsolePrinter) -> int:
    if args.command == "local_resources":
        from dsjobs_lsp.cli.local_resources import run_local_resources

        return run_local_resources(args)
    from dsjobs_lsp.cli.commands import BACKEND_COMMANDS, FOLLOWING_COMMANDS, JobTracker
    from dsjobs_lsp.cli.interrupt import run_interruptible
    from dsjobs_lsp.core.jobs.runner import JobRunner
    from dsjobs_lsp.core.settings import load_settings

    _absolute_paths(args)
    if args.command == "generate_requirements":
        return run_interruptible(_generate_requirements(args, printer))
    settings = load_settings(
        backend=args.backend,
        oauth_token=args.token,
        yc_profile=args.profile,
        service_account_key_file=args.sa_key,
    )
    runner = JobRunner(settings)
    tracker = JobTracker(printer)
    command = BACKEND_COMMANDS[args.command]
    try:
        return run_interruptible(command(runner, args, tracker))
    except KeyboardInterrupt:
        if args.command in FOLLOWING_COMMANDS and tracker.job_id:
            printer.console(
                f"detached from job `{tracker.job_id}`; it keeps running. Follow it again with "
                f"`dsjobs project job attach --id {tracker.job_id}`, stop it with "
                f"`dsjobs project job cancel --id {tracker.job_id}`",
                "warning",
            )
            return DETACHED_EXIT_CODE
        raise


def _absolute_paths(args: argparse.Namespace) -> None:
    """Make file arguments absolute before the event loop starts (commands then never touch the cwd)."""
    if getattr(args, "file", None):
        args.file = os.path.abspath(args.file)
    if args.command in ("execute", "run") and args.config:
        args.config = os.path.abspath(args.config)
    if args.command == "generate_requirements":
        args.files = [os.path.abspath(f) for f in args.files]


async def _generate_requirements(args: argparse.Namespace, printer: ConsolePrinter) -> int:
    import asyncio
    from pathlib import Path

    from dsjobs_lsp.core.pyenv import generate_requirements

    files = [Path(f) for f in args.files]
    requirements = await generate_requirements(files, interpreter=None, working_dir=Path.cwd())
    text = "".join(f"{line}\n" for line in requirements)
    await asyncio.to_thread(Path(args.output).write_text, text, encoding="utf-8")
    printer.console(f"{len(requirements)} requirements written to {args.output}")
    return 0


def _report(error: Exception, printer: ConsolePrinter, *, debug: bool) -> int:
    import traceback

    from dsjobs_lsp.core.auth import redact
    from dsjobs_lsp.core.config import ConfigError

    if debug:
        sys.stderr.write(redact("".join(traceback.format_exception(error))))
    if isinstance(error, ConfigError):  # every finding in file order, warnings included: fix them in one go
        for issue in sorted(error.issues, key=lambda found: (found.line, found.column)):
            printer.console(redact(issue.describe(error.source)), issue.severity)
        return 1
    message = str(error) or type(error).__name__
    printer.console(redact(message), "error")
    return 1


if __name__ == "__main__":
    main()
