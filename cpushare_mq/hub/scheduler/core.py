"""The scheduler's public face: one class made of its rooms (see the package docstring)."""

from __future__ import annotations

from .allowance import Allowances
from .checkers import Checkers
from .clock import Clock
from .jobs import Jobs
from .leasing import Leasing
from .membership import Membership
from .queries import Queries
from .restore import Restore
from .voting import Voting

__all__ = ["Scheduler"]


class Scheduler(Jobs, Membership, Leasing, Voting, Clock, Queries, Restore, Allowances, Checkers):
    """The pure scheduling core: every event method takes ``now`` and changes memory only;
    effects are taken with :meth:`take_effects`. Each room (a base class, one module) owns
    one concept: :mod:`.jobs`, :mod:`.membership`, :mod:`.leasing`, :mod:`.voting`,
    :mod:`.clock`, :mod:`.queries`, :mod:`.restore`, :mod:`.allowance`, :mod:`.checkers`; :mod:`.lifecycle` holds the shared
    state and the one path of a fragment's state changes."""
