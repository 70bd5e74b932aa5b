"""Fixtures for the browser tests: the built frontend in front of the real stack, and Chromium.

Builds on tests/apps/conftest.py (PostgreSQL, MCP server, backend). Session-scoped:
- ``chromium_executable``  Debian's Chromium (browser tests also skip up front, with the reason,
                           where it is missing; the CI bootstrap installs it).
- ``frontend_build``       ``apps/frontend/.next/standalone``, rebuilt (``npm ci`` + ``npm run build``)
                           only when the sources or the lockfile changed; skipped without node/npm.
- ``start_frontend``       factory: ``start_frontend(backend_url)`` runs the standalone server in
                           front of any backend; stopped at session end.
- ``frontend_url``         the frontend in front of the session's backend.
- ``browser``              headless Chromium through Playwright, with a fresh profile.
Function-scoped:
- ``page``                 a new browser context and page; a screenshot is saved on failure, and an
                           uncaught exception in the page's scripts fails the test.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest
from app_processes import AppProcess, free_port
from frontend_stack import FrontendBuildError, FrontendProcess, build_frontend
from playwright.sync_api import Browser, Page, sync_playwright

from harness.browser import CHROMIUM, launch_chromium


@pytest.fixture(scope="session")
def chromium_executable() -> Path:
    if not CHROMIUM.is_file():
        pytest.skip(
            f"{CHROMIUM} is missing: `nox -s tests` installs Debian's chromium when it may (root or sudo)"
        )
    return CHROMIUM


@pytest.fixture(scope="session")
def frontend_build(app_logs: Path) -> Path:
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            pytest.skip(
                f"{tool} is missing: the frontend is built and run with the host's Node.js"
                " (`nox -s tests` installs Debian's npm when it may: root or sudo)"
            )
    try:
        return build_frontend(app_logs / "frontend-build.log")
    except FrontendBuildError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def start_frontend(frontend_build: Path, app_logs: Path) -> Iterator[Callable[[str], FrontendProcess]]:
    started: list[FrontendProcess] = []

    def start(backend_url: str) -> FrontendProcess:
        process = FrontendProcess(
            frontend_build, backend_url, app_logs / f"frontend-{len(started)}.log", port=free_port()
        )
        started.append(process)
        return process.start()

    yield start
    for process in reversed(started):
        process.stop()


@pytest.fixture(scope="session")
def frontend_url(start_frontend: Callable[[str], FrontendProcess], backend_server: AppProcess) -> str:
    return start_frontend(backend_server.base_url).base_url


@pytest.fixture(scope="session")
def browser(chromium_executable: Path) -> Iterator[Browser]:
    # launch() gives every run a new, empty profile directory of its own.
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    # Uncaught exceptions in the app's scripts (not failed requests, which some tests cause).
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(f"{error.name}: {error.message}"))
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        shot = tmp_path / "failure.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot of the failure: {shot}")
    context.close()
    assert script_errors == [], f"uncaught errors in the page: {script_errors}"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keeps each phase's report on the item, so ``page`` can tell whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
