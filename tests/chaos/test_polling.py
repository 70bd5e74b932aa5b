"""The wait shared by `API healthy again` and `chat works again`: seconds until a 200, or None."""

from __future__ import annotations

import time

from taskflow_chaos.api import Reply
from taskflow_chaos.service import _seconds_until_200


def test_seconds_until_the_first_200_with_the_last_other_answer() -> None:
    answers = iter([Reply(503, 0.01), Reply(None, 0.01, error="refused"), Reply(200, 0.01)])
    seconds, last = _seconds_until_200(lambda: next(answers), started=time.time(), timeout=5, pause=0.01)
    assert seconds is not None and seconds < 5
    assert last == "no answer (refused)"


def test_none_when_no_200_comes_before_the_timeout() -> None:
    seconds, last = _seconds_until_200(lambda: Reply(502, 0.01), started=time.time(), timeout=0.1, pause=0.02)
    assert seconds is None
    assert last == "HTTP 502"
