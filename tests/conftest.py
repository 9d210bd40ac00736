"""Shared by every test area. Puts tests/ on sys.path so the small helper modules here
(``waiting``) import the same way from every folder, and gives the processes the tests start
the default Ctrl-C behaviour."""

import signal
import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

# A suite started in the background of a non-interactive shell (`make test &`, nohup, some CI
# runners) inherits SIGINT ignored, and an ignored signal stays ignored across exec: the
# commands the tests Ctrl-C would never see it. A handled signal is reset to the default on
# exec, so handling it here gives every child the default, as a user's terminal does.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
