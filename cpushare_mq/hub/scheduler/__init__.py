"""The hub's scheduling core: pure (no sockets, no SQL, no clock), events in, effects out.

Every event method takes ``now`` (seconds, wall clock, as the caller sees it) and changes
in-memory state only. What must reach disk or the network is collected in
:class:`Effects` (take it with :meth:`Scheduler.take_effects`): a journal of store changes
(applied by :mod:`cpushare_mq.hub.store` in one SQLite transaction), CANCELs to send, dead
workers to forget. LEASEs come out of :meth:`Scheduler.assign`. Everything that leaves the
core is a frozen record (:mod:`.effects`); its own mutable objects (:mod:`.records`) never do.

One room per concept, each a base class of :class:`Scheduler` (:mod:`.core`) over the shared
state of :mod:`.lifecycle`: :mod:`.jobs`, :mod:`.membership` (workers), :mod:`.leasing`,
:mod:`.voting` (results, acceptance, re-verification), :mod:`.clock` (time), :mod:`.queries`,
:mod:`.restore`, :mod:`.allowance` (budgets).

Memory: only a bounded window of each job's PENDING fragments is held here (refilled from
the store in batches, see :meth:`Scheduler.refill_requests`), plus the fragments that are
LEASED or VOTING. Everything else lives in SQLite.

Fragment states and the ONE table of allowed transitions are :class:`FragState` and
:data:`TRANSITIONS`; :func:`apply_transition` is the one function that changes a state.
"""

from ...jobspec import JobSpec, validate_spec
from .config import HubConfig
from .core import Scheduler
from .effects import Effects, Journal, LeaseGrant, Reopen
from .states import SESSION_KEY_PREFIX, TRANSITIONS, FragState, JobState, LeaseEnd, apply_transition

__all__ = [
    "FragState", "TRANSITIONS", "apply_transition", "JobSpec", "HubConfig", "Scheduler",
    "Effects", "Journal", "JobState", "LeaseEnd", "LeaseGrant", "validate_spec", "Reopen",
    "SESSION_KEY_PREFIX",
]
