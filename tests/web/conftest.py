import sys
from pathlib import Path

# the hub tests' FakeWorker (a protocol-speaking worker whose answers the test controls)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "hub"))
