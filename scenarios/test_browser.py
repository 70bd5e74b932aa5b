"""SC-003: a person uses Taskflow in a real browser through the TLS ingress, without errors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from harness.deploy import Deployment
from harness.ingress_client import INGRESS_HOST
from harness.recorder import EvidenceRecorder

# A chat turn is a backend -> MCP server -> database round trip; on a busy 2-core node it can
# take longer than Playwright's 5 s default for assertions.
CHAT_TIMEOUT_MS = 30_000
ASSERTION_TIMEOUT_MS = 20_000
PLAYWRIGHT_DEFAULT_TIMEOUT_MS = 5_000
CHECK = "sign up, add, complete and delete a task, and chat, in Chromium through the ingress"


@pytest.fixture
def page_through_ingress(deployment: Deployment, evidence: EvidenceRecorder) -> Iterator[object]:
    try:
        from playwright.sync_api import expect, sync_playwright  # noqa: PLC0415

        from harness.browser import CHROMIUM, launch_chromium  # noqa: PLC0415
        from harness.browser_isolation import chromium_in_own_network  # noqa: PLC0415
        from harness.errors import UserError  # noqa: PLC0415
    except ImportError as error:
        evidence.skip("SC-003", CHECK, f"playwright is not installed ({error})")
    if not CHROMIUM.is_file():
        evidence.skip(
            "SC-003", CHECK, f"{CHROMIUM} is missing: install Debian's chromium (.ci/bootstrap does)"
        )
    # Chromium aborts requests (net::ERR_NETWORK_CHANGED) whenever an interface of its network
    # namespace comes or goes, and every pod start adds a veth on a single-node cluster's host:
    # the browser gets a namespace of its own that reaches only the ingress (see browser_isolation).
    with ExitStack() as isolated:
        try:
            executable = isolated.enter_context(chromium_in_own_network(CHROMIUM, deployment.ingress))
        except UserError as error:
            evidence.skip("SC-003", CHECK, f"no isolated network for the browser: {error}")
        # Pages come through the ingress from a busy single node: the first load and client-side
        # redirects can take longer than Playwright's 5 s assertion default.
        expect.set_options(timeout=ASSERTION_TIMEOUT_MS)
        playwright = isolated.enter_context(sync_playwright())
        browser = launch_chromium(
            playwright, host_rules=f"MAP {INGRESS_HOST} 127.0.0.1", executable=executable
        )
        # The run's certificate is self-signed; FR-003 checks it is the one served for this host.
        context = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(20_000)
        yield context.new_page()
        context.close()
        browser.close()
    expect.set_options(timeout=PLAYWRIGHT_DEFAULT_TIMEOUT_MS)


@pytest.mark.criterion("SC-003")
def test_user_journey_in_browser(
    page_through_ingress: object, run_dir: Path, evidence: EvidenceRecorder
) -> None:
    from playwright.sync_api import Error as PlaywrightError  # noqa: PLC0415
    from playwright.sync_api import Page, Response  # noqa: PLC0415

    page = page_through_ingress
    assert isinstance(page, Page)
    console_errors: list[str] = []
    page.on(
        "console", lambda message: console_errors.append(message.text) if message.type == "error" else None
    )
    failed_responses: list[str] = []

    def note_failure(response: Response) -> None:
        if response.status >= 400:
            failed_responses.append(f"{response.status} {response.request.method} {response.url}")

    page.on("response", note_failure)
    started = time.monotonic()
    try:
        run_journey(page)
    except (PlaywrightError, AssertionError) as error:
        # The journey is the check: a step that never completes fails it with the step's error.
        page.screenshot(path=str(run_dir / "sc-003-browser.png"), full_page=True)
        evidence.check(
            "SC-003",
            CHECK,
            ok=False,
            metric="journey",
            value="stopped",
            budget="no console errors, no failed requests",
            detail="; ".join([str(error).strip().splitlines()[0], *failed_responses, *console_errors])[:400],
        )
        return
    journey_seconds = time.monotonic() - started
    page.screenshot(path=str(run_dir / "sc-003-browser.png"), full_page=True)
    evidence.check(
        "SC-003",
        CHECK,
        ok=not console_errors and not failed_responses,
        metric="journey time",
        value=round(journey_seconds, 1),
        unit="s",
        budget="no console errors, no failed requests",
        detail="; ".join([*failed_responses, *console_errors])[:400] or "screenshot: sc-003-browser.png",
    )


def run_journey(page: object) -> None:
    from playwright.sync_api import Page, expect  # noqa: PLC0415

    from harness.browser import add_task, ask_assistant, sign_up_through_ui  # noqa: PLC0415

    assert isinstance(page, Page)
    sign_up_through_ui(page, f"https://{INGRESS_HOST}/")
    expect(page.get_by_role("heading", name="Tasks")).to_be_visible()
    add_task(page, "Check the ingress", "added through https://taskflow.local")
    add_task(page, "Delete me")
    done = page.get_by_role("checkbox", name="Check the ingress", exact=True)
    done.click()
    expect(done).to_be_checked()
    page.get_by_role("button", name="Delete Delete me").click()
    expect(page.get_by_role("checkbox", name="Delete me")).to_have_count(0)
    ask_assistant(page, "add a task to buy milk")
    expect(page.get_by_role("checkbox", name="buy milk", exact=True)).to_be_visible(timeout=CHAT_TIMEOUT_MS)
