"""Fragment and job states, the one table of allowed fragment transitions, and how an
attempt ended."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from ...errors import IllegalTransition

if TYPE_CHECKING:
    from .records import _Frag


class FragState(StrEnum):
    """Where a fragment is (see docs/architecture.md, "Fragment states")."""

    PENDING = "PENDING"   # waiting for (another) lease, no result yet
    LEASED = "LEASED"     # one or more copies running, no result yet
    VOTING = "VOTING"     # redundancy > 1: some results in, no quorum yet
    DONE = "DONE"         # a result (or a quorum of agreeing results) accepted
    FAILED = "FAILED"     # given up: reason kept

    @property
    def terminal(self) -> bool:
        return self in (FragState.DONE, FragState.FAILED)


P, L, V, D, F = (FragState.PENDING, FragState.LEASED, FragState.VOTING, FragState.DONE,
                 FragState.FAILED)

#: The one table of allowed state changes (from, to).
TRANSITIONS: frozenset[tuple[FragState, FragState]] = frozenset({
    (P, L),   # leased
    (L, P),   # every lease lost (worker dead, lease expired, failure, release, cancel)
    (L, V),   # first result of a redundant fragment
    (L, D),   # result accepted (quorum reached)
    (L, F),   # deterministic failure / attempts exhausted / sandbox killer
    (V, D),   # quorum reached
    (V, F),   # no quorum within the extra-copy limit, or a deterministic failure
    (D, V),   # re-verification (reopen): the accepted result of a worker caught cheating
              # counts as one vote; a result from another worker key must agree with it.
              # DONE fragments are not in memory: the shell loads the row and calls reopen()
})


def apply_transition(frag: _Frag, new: FragState) -> FragState:
    """Change ``frag``'s state to ``new`` if the table allows it; return the old state."""
    old = frag.state
    if (old, new) not in TRANSITIONS:
        raise IllegalTransition(f"fragment {frag.fid}: {old.value} -> {new.value} is not allowed")
    frag.state = new
    return old


class JobState(StrEnum):
    RUNNING = "running"
    DONE = "done"              # every fragment DONE or FAILED
    CANCELLED = "cancelled"




class LeaseEnd(StrEnum):
    """How an attempt ended (the ``end`` column of the attempts table)."""

    VOTE = "vote"              # an ok result that was counted (accepted or a vote)
    DISAGREED = "disagreed"    # an ok result that lost the vote
    LOST = "lost"              # worker declared dead
    EXPIRED = "expired"        # lease deadline passed
    RELEASED = "released"      # handed back unrun by the worker
    CANCELLED = "cancelled"    # job cancelled / fragment done elsewhere
    REJECTED = "rejected"      # result failed verification (digest, size, chunk sequence)
    LEFT = "left"              # worker said BYE / rejoined while holding it
    RECLAIMED = "reclaimed"    # worker paused longer than the pause grace
    # a failure report stores "failure:<outcome>"



#: A worker without a worker_key is known by its session id, with this prefix.
SESSION_KEY_PREFIX = "session:"
