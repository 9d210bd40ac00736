"""Trust: CURVE keys and authentication, signed results, reputation and spot checks.

Modules:

* :mod:`.keys` -- the hub's CURVE key pair (``hub.key`` / ``hub.pub``), the worker's identity
  (CURVE key pair + Ed25519 signing key), owner-only key files refused when others can read them.
* :mod:`.zap` -- a ZAP handler admitting any worker key or an allow-list, with a ban list,
  and helpers that put CURVE on a socket.
* :mod:`.signing` -- canonical bytes of a result claim and its Ed25519 signature.
* :mod:`.reputation` -- the pure policy core: adaptive spot checks, strikes, bans.
* :mod:`.ratelimit` -- a pure token bucket for per-worker message rate limits.
* :mod:`.simulate` -- a seeded simulation of honest and cheating workers under the policy.
"""
