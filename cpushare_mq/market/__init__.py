"""The market for spare CPU: prices, metering, signed receipts and budgets.

Pure cores only (no sockets, no SQL, no clock): :mod:`.money` (exact decimal amounts and
prices per CPU-hour), :mod:`.receipts` (what a hub signs for each paid result),
:mod:`.metering` (are a seller's CPU-second claims plausible?) and :mod:`.budget` (may a
job lease more?). See docs/market.md.
"""
