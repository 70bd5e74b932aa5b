"""Root conftest: loads the conformance plugin (its fixtures run only where scenarios ask)."""

pytest_plugins = ["harness.plugin", "pytester"]
