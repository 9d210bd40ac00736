"""Worker sessions as the hub's socket sees them: which connection (ROUTER routing id) is
which worker session, the key the worker announced in its HELLO and the protocol features
that change how the hub treats it. A HELLO starts a new session, even on a connection that
had one; its worker id is the key's (one id and one ``workers`` row per key, another for
each further session of the key at the same time: hub/workerids.py). Loop thread only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..protocol import Feature
from .workerids import worker_id_for

__all__ = ["Sessions"]


class Sessions:
    def __init__(self) -> None:
        self._worker_at: dict[bytes, str] = {}     # routing id -> worker id
        self._ident_of: dict[str, bytes] = {}      # worker id -> routing id
        self._keys: dict[str, str] = {}            # worker id -> HELLO.worker_key
        self._credit_resetters: set[str] = set()   # workers with Feature.RELEASE_RESETS_CREDIT
        self._resting: set[str] = set()            # ids ended this turn: not given out again

    def __len__(self) -> int:
        return len(self._ident_of)

    def new_id(self, worker_key: str, in_core: Callable[[str], bool] = lambda wid: False
               ) -> str | None:
        """The id of a new session of ``worker_key``: its key's id, or the next one free
        (not an open session's or one not forgotten yet, not one that ended this turn, not
        ``in_core``: the scheduler's live workers). None: too many sessions of the key."""
        return worker_id_for(worker_key, lambda wid: (wid in self._ident_of or wid in self._resting
                                                      or in_core(wid)))

    def turn_ended(self) -> None:
        """The turn's acknowledgements, leases and replies (addressed by worker id) are sent:
        the ids of sessions that ended in it may be given to new sessions now."""
        self._resting.clear()

    def open(self, wid: str, ident: bytes, worker_key: str, features: Iterable[str]) -> None:
        """Session ``wid`` now speaks on connection ``ident``."""
        self._worker_at[ident] = wid
        self._ident_of[wid] = ident
        self._keys[wid] = worker_key
        if Feature.RELEASE_RESETS_CREDIT in features:
            self._credit_resetters.add(wid)

    def forget(self, wid: str) -> None:
        self._resting.add(wid)
        self._keys.pop(wid, None)
        self._credit_resetters.discard(wid)
        ident = self._ident_of.pop(wid, None)
        if ident is not None and self._worker_at.get(ident) == wid:
            del self._worker_at[ident]

    def worker_at(self, ident: bytes) -> str | None:
        """The session speaking on connection ``ident`` now, if any."""
        return self._worker_at.get(ident)

    def ident_of(self, wid: str) -> bytes | None:
        return self._ident_of.get(wid)

    def key_of(self, wid: str) -> str:
        """The worker key session ``wid`` announced ("" if none, or gone)."""
        return self._keys.get(wid, "")

    def resets_credit(self, wid: str) -> bool:
        """A RELEASE of this worker sets its credit to zero (it says READY again)."""
        return wid in self._credit_resetters

    def connections(self) -> list[tuple[str, bytes]]:
        """(worker id, routing id) of every open session."""
        return list(self._ident_of.items())

    def with_keys(self, keys: set[str]) -> list[tuple[str, bytes | None]]:
        """(worker id, routing id) of every session that announced one of ``keys``."""
        return [(wid, self._ident_of.get(wid)) for wid, key in list(self._keys.items())
                if key in keys]
