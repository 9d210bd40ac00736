"""The market for spare CPU: prices, metering, signed receipts, budgets, and the directory
where hubs publish offers.

Pure cores (no sockets, no SQL, no clock): :mod:`.money` (exact decimal amounts and prices
per CPU-hour), :mod:`.receipts` (what a hub signs for each paid result), :mod:`.metering`
(are a seller's CPU-second claims plausible?), :mod:`.budget` (may a job lease more?),
:mod:`.offers` (a hub's signed offer), :mod:`.directory` (the market's offers and per-peer
budgets), :mod:`.offering` (when a hub republishes). Shells: :mod:`.server`
(``cpushare-market serve``), :mod:`.publisher` (a hub's offer thread), :mod:`.cli`; the
market's wire format is :mod:`.wire`. See docs/market.md.
"""
