"""The embedded single-node Kubernetes (`--provider local`); see cluster/README.md."""

from .errors import ClusterError
from .lifecycle import down, status, up
from .paths import Layout
from .users import using

__all__ = ["ClusterError", "Layout", "down", "status", "up", "using"]
