"""Run a buyer's program safely: the trusted loader (c/loader), ABI v1 framing, limits.

    from cpushare_mq.sandbox import Sandbox, SandboxLimits, run_raw

    with Sandbox("c/build/examples/echo.elf", shared_input=b"") as sb:
        rec = sb.run(b"hello")            # OutcomeRecord; sb.last_output == b"hello"

See docs/sandbox.md.
"""

from ..outcome import Outcome, OutcomeRecord
from .runner import Sandbox, SandboxLimits, run_raw

__all__ = ["SandboxLimits", "Outcome", "OutcomeRecord", "Sandbox", "run_raw"]
