"""Logging set-up. Only entry points (CLIs) call :func:`setup_logging`; library modules just
use ``logging.getLogger(__name__)``."""

from __future__ import annotations

import json
import logging
import sys
import time

from .printable import printable


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, plus any ``extra`` fields."""

    _skip = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": round(record.created, 6),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in self._skip:
                out[key] = value if isinstance(value, (int, float, str, bool, type(None))) else repr(value)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, separators=(",", ":"))


class LineFormatter(logging.Formatter):
    """One line a message: control characters in it (a peer's name or words, quoted in the
    message) are escaped, so nobody can forge a log line or drive the reader's terminal; a
    traceback still follows on its own lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        record.message = printable(record.message)
        return super().formatMessage(record)


def setup_logging(verbosity: int = 0, json_log: bool = False, stream=None) -> None:
    """Configure the root logger once: ``verbosity`` 0 = INFO, 1+ = DEBUG, -1 = WARNING."""
    level = logging.DEBUG if verbosity > 0 else logging.WARNING if verbosity < 0 else logging.INFO
    handler = logging.StreamHandler(stream or sys.stderr)
    if json_log:
        handler.setFormatter(JsonFormatter())
    else:
        fmt = LineFormatter("%(asctime)s.%(msecs)03d %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        fmt.converter = time.localtime
        handler.setFormatter(fmt)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
