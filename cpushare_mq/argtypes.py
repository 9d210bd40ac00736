"""argparse ``type=`` helpers shared by the CLIs: each names the bad value and the range."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def bounded(kind: type, lo: float | None = None, hi: float | None = None, *,
            lo_inclusive: bool = True, what: str = "a number") -> Callable[[str], float | int]:
    """An argparse type converting with ``kind`` (int or float) and checking the range;
    NaN and infinities are refused."""

    def convert(text: str):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        noun = "a finite number" if kind is float else "a whole number"
        if isinstance(v, float) and not math.isfinite(v):
            raise argparse.ArgumentTypeError(f"{text!r} must be {noun}")
        too_low = lo is not None and (v < lo if lo_inclusive else v <= lo)
        if too_low or (hi is not None and v > hi):
            low = "" if lo is None else f"{'>=' if lo_inclusive else '>'} {lo}"
            high = "" if hi is None else f"<= {hi}"
            bounds = " and ".join(x for x in (low, high) if x)
            raise argparse.ArgumentTypeError(f"{text!r} must be {noun} {bounds}")
        return v

    return convert


positive_float = bounded(float, 0, lo_inclusive=False)
positive_int = bounded(int, 0, lo_inclusive=False, what="a whole number")
