"""Prints core events on a terminal: the run's narrative like the reference's log, program output live.

Narrative lines (`creating job ...`) go to stderr as `<time> - [INFO] - <text>`; the program's stdout/stderr
lines go to our stdout/stderr unchanged; upload/download progress is a bar on a TTY and nothing otherwise (the
narrative already says what is happening).
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from typing import TYPE_CHECKING, TextIO

from dsjobs_lsp.core.packaging.limits import humanize_bytes_size as humanize_bytes

if TYPE_CHECKING:  # the event models (pydantic) load with the command that emits them
    from dsjobs_lsp.core.jobs.events import Event, LogLines, Progress

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
_GREY, _RED, _RESET = "\x1b[37m", "\x1b[31m", "\x1b[0m"
_BAR_WIDTH = 30


class ConsolePrinter:
    """An `EventSink` for the CLI. `level` filters narrative lines (logging level number)."""

    def __init__(
        self, *, level: int = logging.INFO, out: TextIO | None = None, err: TextIO | None = None
    ) -> None:
        self.level = level
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.color = _is_tty(self.err)
        self._bar_open = False

    def __call__(self, event: Event) -> None:
        """Print one event."""
        if event.kind == "console":
            self.console(event.text, event.level)
        elif event.kind == "log":
            self._log_lines(event)
        elif event.kind == "progress":
            self._progress(event)
        elif event.kind == "job" and self.level <= logging.DEBUG:
            self.console(f"job {event.job.id}: {event.job.status.value}", "info")

    def console(self, text: str, level: str = "info") -> None:
        """A narrative line on stderr, timestamped like the reference's `cli_console` formatter."""
        number = _LEVELS.get(level, logging.INFO)
        if number < self.level:
            return
        self._close_bar()
        stamp = datetime.now().strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]
        line = f"{stamp} - [{logging.getLevelName(number)}] - {text}"
        self.err.write(f"{_GREY}{line}{_RESET}\n" if self.color else f"{line}\n")
        self.err.flush()

    def _log_lines(self, event: LogLines) -> None:
        if event.stream == "system":
            if self.level <= logging.DEBUG:
                self._write(self.err, [f"[SYS] {line}" for line in event.lines], colored=False)
            return
        target = self.out if event.stream == "stdout" else self.err
        self._write(target, event.lines, colored=event.stream == "stderr" and _is_tty(target))

    def _write(self, target: TextIO, lines: list[str], *, colored: bool) -> None:
        if not lines:
            return
        self._close_bar()
        text = "".join(f"{_RED}{line}{_RESET}\n" for line in lines) if colored else "\n".join(lines) + "\n"
        target.write(text)
        target.flush()

    def _progress(self, event: Progress) -> None:
        if event.stage not in ("upload", "download") or not self.color or event.total is None:
            return
        if event.finished:
            self._close_bar()
            return
        percent = event.percent or 0
        filled = _BAR_WIDTH * percent // 100
        bar = "#" * filled + "-" * (_BAR_WIDTH - filled)
        done, total = humanize_bytes(event.done), humanize_bytes(event.total)
        self.err.write(f"\r{event.stage} [{bar}] {percent:3d}% {done}/{total}")
        self.err.flush()
        self._bar_open = True

    def _close_bar(self) -> None:
        if self._bar_open:
            self.err.write("\n")
            self.err.flush()
            self._bar_open = False


class ConsoleLogHandler(logging.Handler):
    """Prints the core's log records (e.g. requirement analysis warnings) as narrative lines of a printer."""

    def __init__(self, printer: ConsolePrinter, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.printer = printer

    def emit(self, record: logging.LogRecord) -> None:
        """One narrative line at the record's level (tokens masked by the handler's filters)."""
        try:
            self.printer.console(self.format(record), _level_name(record.levelno))
        except Exception:
            self.handleError(record)


def _level_name(number: int) -> str:
    for name, threshold in (("error", logging.ERROR), ("warning", logging.WARNING), ("info", logging.INFO)):
        if number >= threshold:
            return name
    return "debug"


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
