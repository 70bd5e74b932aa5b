"""Taskflow conformance harness: deploys Taskflow to a cluster and proves the spec with evidence."""

__version__ = "0.1.0"
