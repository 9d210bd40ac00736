"""cpushare-mq: borrow other people's spare CPU safely.

Public API (for buyers): :class:`Client` talks to a running hub, :class:`Hub` embeds one.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "Client", "Hub", "CpushareError"]

from .errors import CpushareError


def __getattr__(name):  # lazy: importing the package must not pull in zmq/sqlite
    if name == "Client":
        from .client import Client

        return Client
    if name == "Hub":
        from .hub.server import Hub

        return Hub
    raise AttributeError(name)
