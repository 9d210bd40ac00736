"""Exact money: prices per CPU-hour and amounts as decimals, never floats.

A currency is a label (``EUR``, ``credits``): the system never converts. CPU time is counted
in whole microseconds (``cpu_us``) so that what is signed and summed is exact. An amount is
``price × cpu_us / 3.6e9`` rounded half-even to :data:`AMOUNT_QUANTUM` (1e-9 of a unit).
"""

from __future__ import annotations

import functools
import re
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from typing import NamedTuple

from ..errors import ConfigError

__all__ = ["AMOUNT_QUANTUM", "MAX_PRICE", "Price", "amount_decimal", "amount_text", "parse_amount",
           "parse_price", "cost", "US_PER_HOUR", "decimal_text"]

AMOUNT_QUANTUM = Decimal("0.000000001")
US_PER_HOUR = 3_600_000_000
MAX_PRICE = Decimal("1000000")            # per CPU-hour: beyond it is a typo
_CURRENCY = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,15}")
_NUMBER = re.compile(r"[0-9]+(\.[0-9]{1,9})?")


class Price(NamedTuple):
    """A price per CPU-hour in a currency (a label). (A named tuple: the hub looks up a
    price's text for every receipt, and a tuple hashes without a Python call.)"""

    per_cpu_hour: Decimal
    currency: str = "credits"

    def __str__(self) -> str:
        return f"{decimal_text(self.per_cpu_hour)} {self.currency}"


def decimal_text(d: Decimal) -> str:
    """The one text form of an amount: fixed point, never exponent notation."""
    return format(d, "f")


def amount_decimal(text: str) -> Decimal:
    """A receipt's amount (its text, as issued or checked) as an exact decimal."""
    return Decimal(text).quantize(AMOUNT_QUANTUM)


def parse_amount(text: str, what: str = "amount") -> Decimal:
    """A non-negative decimal with at most 9 places (``"0.05"``), as typed by a user or read
    from a peer. Raises :class:`ConfigError` naming ``what``."""
    if not isinstance(text, str) or not _NUMBER.fullmatch(text.strip()):
        raise ConfigError(f"{what} must be a non-negative decimal number with at most 9 "
                          f"places, like 0.05; got {text!r}")
    try:
        return Decimal(text.strip())
    except InvalidOperation as exc:       # unreachable after the pattern; kept closed
        raise ConfigError(f"{what}: {text!r} is not a number") from exc


def parse_price(text: str, default_currency: str = "credits") -> Price:
    """``"0.05"`` or ``"0.05 EUR"`` -> Price (per CPU-hour)."""
    parts = text.split() if isinstance(text, str) else []
    if len(parts) not in (1, 2):
        raise ConfigError(f"price must be a number per CPU-hour and an optional currency label, "
                          f"like '0.05 EUR'; got {text!r}")
    amount = parse_amount(parts[0], "price")
    if amount > MAX_PRICE:
        raise ConfigError(f"price {amount} per CPU-hour is above {MAX_PRICE}: a typo?")
    currency = parts[1] if len(parts) == 2 else default_currency
    if not _CURRENCY.fullmatch(currency):
        raise ConfigError(f"currency label {currency!r} must be 1-16 letters, digits, - or _ "
                          "starting with a letter")
    return Price(amount, currency)


def cost(price: Price, cpu_us: int) -> Decimal:
    """What ``cpu_us`` microseconds of CPU cost at ``price`` (exact, rounded half-even)."""
    if type(cpu_us) is not int or cpu_us < 0:
        raise ConfigError(f"cpu_us must be a non-negative integer, got {cpu_us!r}")
    ctx = _EXACT
    return ctx.divide(ctx.multiply(price.per_cpu_hour, cpu_us), US_PER_HOUR).quantize(
        AMOUNT_QUANTUM, rounding=ROUND_HALF_EVEN, context=ctx)


#: exact for every price and cpu_us we accept (an explicit context: no thread-local switch)
_EXACT = Context(prec=60)


@functools.lru_cache(maxsize=4096, typed=True)
def amount_text(price_text: str, cpu_us: int) -> str:
    """``decimal_text(cost(...))``: the amount a receipt carries for ``cpu_us`` at the price
    written ``price_text`` (a decimal's text form). Remembered per (price, cpu_us): CPU time
    is metered in clock ticks, so a job's receipts repeat a few values (``typed``: ``True``
    is not taken for 1, and fails in :func:`cost` like any non-integer)."""
    return decimal_text(cost(Price(Decimal(price_text)), cpu_us))
