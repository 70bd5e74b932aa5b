"""What a person does in the Taskflow UI, in Debian's Chromium through Playwright.

Shared by the local end-to-end tests (tests/apps/e2e) and the SC-003 conformance scenario, which
drives the same journey through the TLS ingress of the deployed application.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from playwright.sync_api import Browser, Page, Playwright, expect

CHROMIUM = Path("/usr/bin/chromium")
# Flags that keep Chromium off the network here: without the background-networking ones it
# tries Google's hosts at every start and this machine refuses them.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_PASSWORD = "correct-horse-battery"


def launch_chromium(
    playwright: Playwright, *, host_rules: str | None = None, executable: Path = CHROMIUM
) -> Browser:
    """Debian's Chromium, headless, with a new empty profile.

    host_rules: Chromium's --host-resolver-rules, e.g. "MAP taskflow.local 127.0.0.1", so the
    ingress host name reaches the ingress without touching the machine's /etc/hosts.
    executable: what to start as Chromium (harness.browser_isolation wraps it in a netns).
    """
    args = [*CHROMIUM_ARGS, *([f"--host-resolver-rules={host_rules}"] if host_rules else [])]
    return playwright.chromium.launch(executable_path=str(executable), headless=True, args=args)


def sign_up_through_ui(page: Page, frontend_url: str, password: str = DEFAULT_PASSWORD) -> str:
    """Opens the app (which sends a new visitor to log in), signs up a new user; their email."""
    email = f"e2e-{uuid.uuid4().hex[:10]}@example.com"
    page.goto(frontend_url)
    expect(page).to_have_url(re.compile(r"/login$"))
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", name="Create your Taskflow account")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign up").click()
    return email


def add_task(page: Page, title: str, description: str = "") -> None:
    page.get_by_label("New task title").fill(title)
    page.get_by_label("New task description (optional)").fill(description)
    page.get_by_role("button", name="Add task").click()
    expect(page.get_by_role("checkbox", name=title, exact=True)).to_be_visible()


def ask_assistant(page: Page, message: str) -> None:
    page.get_by_label("Message", exact=True).fill(message)
    page.get_by_role("button", name="Send").click()
