"""The hub's web dashboard (issue 18): a read-only live view of jobs, workers and images.

``Hub(web="127.0.0.1:8080")`` / ``cpushare-hub serve --web 127.0.0.1:8080`` start
:class:`~.dashboard.Dashboard`; see docs/dashboard.md.
"""

from .dashboard import Dashboard

__all__ = ["Dashboard"]
