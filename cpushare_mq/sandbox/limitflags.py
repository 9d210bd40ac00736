"""The command-line side of the sandbox limits table (:mod:`cpushare_mq.sandbox.limits`):
one flag per :class:`~cpushare_mq.sandbox.limits.SandboxLimits` field, generated from its
row, so a flag means the same in every command (``cpushare-worker`` offers the ones the
seller sets, ``cpushare-sandbox run`` all of them). Config-file keys and environment
variables follow from the flags (:mod:`cpushare_mq.cliopts`)."""

from __future__ import annotations

import argparse

from ..argtypes import positive_float
from ..cliopts import parse_size
from .limits import SandboxLimits, SetBy, Unit, limit_rows, size_text


def add_limit_options(p: argparse.ArgumentParser, set_by: SetBy | None = None) -> None:
    """A flag for every limit ``set_by`` sets (or all); its value lands in ``args.<field>``."""
    defaults = SandboxLimits()
    for name, row in limit_rows(set_by):
        default = getattr(defaults, name)
        if row.unit is Unit.BYTES:
            p.add_argument(row.flag, dest=name, type=parse_size, default=default, metavar="SIZE",
                           help=f"{row.help}, e.g. 512M (default {size_text(default)})")
        else:
            p.add_argument(row.flag, dest=name, type=positive_float, default=default, metavar="S",
                           help=f"{row.help} (default {default:g})")


def limits_from_args(args: argparse.Namespace, set_by: SetBy | None = None) -> SandboxLimits:
    """The limits the parsed flags of :func:`add_limit_options` give (ConfigError if one is
    out of range)."""
    return SandboxLimits(**{name: getattr(args, name) for name, _ in limit_rows(set_by)})
