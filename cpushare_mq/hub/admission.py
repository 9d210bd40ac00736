"""How often a peer may knock: token buckets per network address and per key for the two
ways in, the CURVE handshake (asked by the ZAP handler, ``trust/zap.py``) and the HELLO
(``hub/server.py``). Pure: the caller passes the current time; no sockets, no clock.

Before these limits every HELLO wrote a worker row and a log line (issue 14: 3,000 HELLOs
in 2.3 s made 3,000 rows), and every self-made key could handshake as often as it liked.
Now a peer address gets :attr:`AdmissionLimits.per_address_burst` tries at once and
:attr:`~AdmissionLimits.per_address_per_s` a second after that, and so does one key with its
own (smaller) numbers; a try over either is refused (the handshake with ZAP status 300, a
*temporary* failure, after which libzmq reconnects by itself; the HELLO with ``ERROR
rate_limited``, after which the worker says HELLO again when its backoff ends). A refused
try takes no token. Connected workers are never limited by this: it only counts tries to
come in.

The numbers leave room for the honest cases: a machine's workers sharing one key (one
seller, ``docs/security.md``), many sellers behind one NAT address reconnecting after a hub
restart (100 at once, then 10 a second).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..logthrottle import LogThrottle
from ..trust.ratelimit import RateLimiter

__all__ = ["AdmissionLimits", "Admission", "HelloGate", "HANDSHAKE_LIMITS", "HELLO_LIMITS",
           "join_limits"]


@dataclass(frozen=True)
class AdmissionLimits:
    """Tries per second (and at once) from one address and with one key."""

    per_address_per_s: float = 10.0
    per_address_burst: float = 100.0
    per_key_per_s: float = 1.0
    per_key_burst: float = 10.0
    #: addresses and keys remembered (least recently seen forgotten first)
    max_remembered: int = 100_000


#: CURVE handshakes (the ZAP handler): per address, per CURVE key
HANDSHAKE_LIMITS = AdmissionLimits()
#: HELLO messages: per address, per worker key (or per connection for a worker without one)
HELLO_LIMITS = AdmissionLimits()


def join_limits(per_address_per_s: float) -> AdmissionLimits:
    """The limits for a hub whose sellers may join at ``per_address_per_s`` from one address
    (``cpushare-hub serve --join-rate-per-s``, ``HubConfig.join_rate_per_s``): ten seconds'
    worth at once, then that rate; the per-key numbers stay (one seller's key)."""
    return AdmissionLimits(per_address_per_s=per_address_per_s,
                           per_address_burst=max(1.0, 10.0 * per_address_per_s))


class Admission:
    """``refusal(what, address, key, now)``: None (a token of each was taken) or why not."""

    def __init__(self, limits: AdmissionLimits = HELLO_LIMITS):
        self.limits = limits
        self._by_address = RateLimiter(limits.per_address_per_s, limits.per_address_burst,
                                       limits.max_remembered)
        self._by_key = RateLimiter(limits.per_key_per_s, limits.per_key_burst,
                                   limits.max_remembered)
        self.refused = 0

    def refusal(self, what: str, address: str | None, key: str | None, now: float) -> str | None:
        """May a ``what`` ("handshake", "HELLO") from ``address`` with ``key`` go ahead at
        ``now``? Unknown address or key (None, ""): that limit does not apply."""
        lim = self.limits
        if address and not self._by_address.allow(address, now):
            self.refused += 1
            return (f"too many {what}s from {address} (at most {lim.per_address_burst:g} at "
                    f"once, then {lim.per_address_per_s:g} a second): try again later")
        if key and not self._by_key.allow(key, now):
            self.refused += 1
            if address:        # the address's token was not used after all
                self._by_address.refund(address)
            return (f"too many {what}s with key {key[:16]}... (at most {lim.per_key_burst:g} "
                    f"at once, then {lim.per_key_per_s:g} a second): try again later")
        return None


class HelloGate:
    """The hub's check of each HELLO: :class:`Admission` with :data:`HELLO_LIMITS`, and the
    refusals logged at most once a minute (with a count), never once per HELLO."""

    def __init__(self, limits: AdmissionLimits = HELLO_LIMITS, log_interval_s: float = 60.0):
        self.admission = Admission(limits)
        self._log = LogThrottle(log_interval_s)

    def refusal(self, address: str | None, key: str | None, now: float
                ) -> tuple[str, str | None] | None:
        """None: the HELLO goes ahead. Else (why, the line to log now or None)."""
        why = self.admission.refusal("HELLO", address, key, now)
        if why is None:
            return None
        return why, self._log.line("hello", f"refused a HELLO: {why}", now)
