"""Where the SDK's narrative goes: the run's lines and the program's output, printed as the CLI prints them
(narrative on stderr, program stdout/stderr on ours), filtered by `log_level`; and the reference's logging
options (`log_config`, `log_dir`)."""

from __future__ import annotations

import logging
import logging.config
import string
import sys
from pathlib import Path
from typing import TextIO

import yaml

from dsjobs_lsp.core.jobs.events import EventSink

LOG_LEVELS = {
    "ERROR": logging.ERROR,
    "WARNING": logging.WARNING,
    "WARN": logging.WARNING,
    "INFO": logging.INFO,
    "DEBUG": logging.DEBUG,
}
LOG_FILE_NAME = "dsjobs.log"


def level_number(log_level: str) -> int:
    """`"INFO"` → `logging.INFO`; an unknown name is a `ValueError` listing the known ones."""
    number = LOG_LEVELS.get(log_level.upper())
    if number is None:
        raise ValueError(f"log_level {log_level!r}: expected one of {', '.join(LOG_LEVELS)}")
    return number


def console_sink(level: int) -> EventSink:
    """An event sink printing to the current `sys.stdout`/`sys.stderr` (a notebook cell's, in Jupyter)."""
    from dsjobs_lsp.cli.console import ConsolePrinter

    return ConsolePrinter(level=level, out=sys.stdout, err=sys.stderr)


def configure_logging(log_level: str, log_config: TextIO | None, log_dir: str | Path | None) -> str | None:
    """Apply the reference's logging options; returns the folder of the log file (None: no file).

    `log_config`: a logging dictConfig in YAML where `$LOG_LEVEL` and `$LOG_FILE_PATH` are substituted, as
    the reference's `--log-config`. `log_dir`: the core's log records (DEBUG and up, secrets masked) go to
    `<log_dir>/dsjobs.log`.
    """
    folder = _log_folder(log_dir)
    if log_config is not None:
        text = string.Template(log_config.read()).substitute(
            LOG_LEVEL=log_level.upper(), LOG_FILE_PATH=str(folder or Path.cwd())
        )
        logging.config.dictConfig(yaml.safe_load(text))
    if folder is not None:
        _add_file_handler(folder / LOG_FILE_NAME)
    return str(folder) if folder is not None else None


def _log_folder(log_dir: str | Path | None) -> Path | None:
    if log_dir is None:
        return None
    folder = Path(log_dir).expanduser()
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"log directory is a file: {log_dir}")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _add_file_handler(path: Path) -> None:
    from dsjobs_lsp.core.auth.redaction import RedactingFilter

    ours = logging.getLogger("dsjobs_lsp")
    target = str(path.resolve())
    if any(isinstance(h, logging.FileHandler) and h.baseFilename == target for h in ours.handlers):
        return
    handler = logging.FileHandler(target, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s - [%(levelname)s] - %(name)s - %(message)s"))
    handler.addFilter(RedactingFilter())
    ours.addHandler(handler)
    if ours.level == logging.NOTSET or ours.level > logging.DEBUG:
        ours.setLevel(logging.DEBUG)
