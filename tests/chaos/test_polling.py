"""The wait shared by `API healthy again` and `chat works again`: seconds until a 200 (or a run
of them), or None."""

from __future__ import annotations

import time

import pytest
from chaoslib.exceptions import ActivityFailed
from taskflow_chaos import service
from taskflow_chaos.api import Reply, User
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


def test_a_run_of_200s_counts_from_its_first_and_any_other_answer_starts_it_again() -> None:
    # one replica closed its breaker, the other still refuses: 200, 503, then 200 200 200
    answers = iter([Reply(200, 0.01), Reply(503, 0.01), Reply(200, 0.01), Reply(200, 0.01), Reply(200, 0.01)])
    sent: list[float] = []

    def send() -> Reply:
        sent.append(time.time())
        return next(answers)

    started = time.time()
    seconds, last = _seconds_until_200(send, started=started, timeout=5, pause=0.05, in_a_row=3)
    assert last == "HTTP 503"
    assert seconds is not None and abs(seconds - (sent[2] - started)) < 0.01
    assert len(sent) == 5


def test_the_chat_steady_state_raises_what_chat_answered(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeApi:
        def request(self, *args: object, **kwargs: object) -> Reply:
            return Reply(503, 0.048, body='{"reason":"circuit open"}')

    monkeypatch.setattr(service, "api_and_user", lambda configuration: (FakeApi(), User("u", "t")))
    with pytest.raises(ActivityFailed, match=r'chat answered HTTP 503 in 48 ms: \{"reason":"circuit open"\}'):
        service.chat_answers()
