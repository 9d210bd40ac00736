"""Shared by every test area. Puts tests/ on sys.path so the small helper modules here
(``waiting``) import the same way from every folder."""

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
