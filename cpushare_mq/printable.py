"""Text from peers made safe to print on a terminal or in a log line (pure).

Worker names, job names, keys and the reasons a hub or a worker gives come from other
people's machines. Printed raw, a control character in them could clear or retitle the
reader's terminal (escape sequences) or forge log lines (a newline). :func:`printable`
writes every control character (C0, DEL, C1) as its ``\\xNN`` escape and leaves the rest.
"""

from __future__ import annotations

__all__ = ["printable"]

_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))}


def printable(text: str) -> str:
    """``text`` with its control characters escaped (``"a\\x1b[2J"`` -> ``"a\\\\x1b[2J"``)."""
    return text.translate(_ESCAPES) if not text.isprintable() else text
