"""Taskflow's own Chaos Toolkit activities: traffic with a ledger of acknowledged writes, the
chat and task-endpoint checks, the hang, and waits that prove a fault happened.

Everything here runs inside `chaos run` and imports nothing from the conformance harness. Each
measuring activity returns `{"checks": [...]}`; a check is a plain dict (see `checks.check`) that
the harness turns into evidence, and that a person reads in the journal.
"""
