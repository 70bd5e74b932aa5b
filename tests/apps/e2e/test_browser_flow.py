"""The Taskflow UI in Debian's Chromium, in front of the real backend, MCP server and PostgreSQL.

What a person does on first use (sign up, add, edit, complete and delete tasks, ask the
assistant for one), and what they see when part of the stack is down or their session ends.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from app_processes import AppProcess, SignedUpUser, free_port
from frontend_stack import FRONTEND_DIR, FrontendProcess
from playwright.sync_api import Page, expect

from harness.browser import CHROMIUM, add_task, sign_up_through_ui
from harness.browser import DEFAULT_PASSWORD as PASSWORD

pytestmark = [
    pytest.mark.browser,
    # Skip before any fixture builds or starts anything.
    pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"{CHROMIUM} is missing: install Debian's chromium"),
]

# The app's own alerts; Next.js keeps an empty role=alert route announcer on every page.
ALERT = "[role=alert]:not(#__next-route-announcer__)"
# axe-core, from the frontend's own dev dependencies (installed by the build fixture).
AXE = FRONTEND_DIR / "node_modules" / "axe-core" / "axe.min.js"
AXE_RUN = """async () => (await axe.run(document, { resultTypes: ["violations"] })).violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)"""


def serious_accessibility_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    violations: list[str] = page.evaluate(AXE_RUN)
    return violations


def stored_session(page: Page) -> dict[str, Any]:
    session: dict[str, Any] = page.evaluate("() => JSON.parse(localStorage.getItem('taskflow.session'))")
    return session


def tasks_on_server(page: Page, backend_url: str) -> list[dict[str, Any]]:
    """The signed-in user's tasks as the backend has them (not as the page shows them)."""
    session = stored_session(page)
    response = httpx.get(
        f"{backend_url}/api/{session['userId']}/tasks",
        headers={"Authorization": f"Bearer {session['token']}"},
        timeout=10,
    )
    response.raise_for_status()
    tasks: list[dict[str, Any]] = response.json()
    return tasks


def test_sign_up_manage_tasks_and_chat(
    page: Page, frontend_url: str, backend_url: str, tmp_path: Path
) -> None:
    email = sign_up_through_ui(page, frontend_url)
    expect(page.get_by_role("heading", name="Tasks")).to_be_visible()
    expect(page.get_by_text(email)).to_be_visible()
    expect(page.get_by_text("No tasks yet")).to_be_visible()

    add_task(page, "Write the quarterly report", "Numbers from finance")
    add_task(page, "Book the dentist")
    expect(page.get_by_text("Numbers from finance")).to_be_visible()

    page.get_by_role("button", name="Edit Write the quarterly report").click()
    page.get_by_label("Title", exact=True).fill("Write the final report")
    page.get_by_label("Description", exact=True).fill("Numbers from finance, signed off")
    page.get_by_role("button", name="Save").click()
    report = page.get_by_role("checkbox", name="Write the final report", exact=True)
    expect(report).to_be_visible()
    expect(page.get_by_role("checkbox", name="Write the quarterly report")).to_have_count(0)

    # A controlled checkbox flips when the server has answered, so click and wait for the state.
    report.click()
    expect(report).to_be_checked()

    page.get_by_role("button", name="Delete Book the dentist").click()
    expect(page.get_by_role("checkbox", name="Book the dentist")).to_have_count(0)

    by_title = {task["title"]: task for task in tasks_on_server(page, backend_url)}
    assert set(by_title) == {"Write the final report"}
    assert by_title["Write the final report"]["completed"] is True
    assert by_title["Write the final report"]["description"] == "Numbers from finance, signed off"

    page.get_by_label("Message", exact=True).fill("add a task to buy milk")
    page.get_by_role("button", name="Send").click()
    conversation = page.get_by_role("log", name="Conversation")
    expect(conversation.locator(".bubble.assistant")).to_have_count(1)
    expect(conversation).to_contain_text("buy milk")
    expect(conversation).to_contain_text("Used add_task")
    milk = page.get_by_role("checkbox", name="buy milk", exact=True)
    expect(milk).to_be_visible()
    expect(milk).not_to_be_checked()
    assert any(task["title"] == "buy milk" for task in tasks_on_server(page, backend_url))

    assert serious_accessibility_violations(page) == []

    shot = tmp_path / "taskflow-tasks-and-chat.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")


def test_reload_keeps_the_session_and_log_out_ends_it(page: Page, frontend_url: str) -> None:
    sign_up_through_ui(page, frontend_url)
    add_task(page, "Survive a reload")
    page.reload()
    expect(page.get_by_role("checkbox", name="Survive a reload")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto(frontend_url)
    expect(page).to_have_url(re.compile(r"/login$"))


def test_wrong_password_and_taken_email_are_explained(
    page: Page, frontend_url: str, sign_up: Callable[[str], SignedUpUser], backend_url: str
) -> None:
    user = sign_up(backend_url)
    page.goto(frontend_url + "/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(ALERT)).to_have_text("Wrong email or password.")
    assert serious_accessibility_violations(page) == []

    page.goto(frontend_url + "/signup")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator(ALERT)).to_contain_text("already exists")

    page.goto(frontend_url + "/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Tasks")).to_be_visible()


def test_an_invalid_token_sends_the_user_back_to_login(
    page: Page, frontend_url: str, signed_up_user: SignedUpUser
) -> None:
    page.goto(frontend_url + "/login")
    bogus = {"token": "not-a-valid-token", "userId": signed_up_user.user_id, "email": signed_up_user.email}
    page.evaluate("(session) => localStorage.setItem('taskflow.session', JSON.stringify(session))", bogus)
    page.goto(frontend_url)
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("status")).to_have_text("Your session has ended. Please log in again.")
    assert page.evaluate("() => localStorage.getItem('taskflow.session')") is None


def test_chat_says_when_the_assistant_is_unavailable(
    page: Page,
    start_backend: Callable[..., AppProcess],
    start_frontend: Callable[[str], FrontendProcess],
    database_url: str,
    tmp_path: Path,
) -> None:
    # A backend whose MCP server is not there: chat answers 503 + Retry-After, tasks still work.
    backend = start_backend(database_url, f"http://127.0.0.1:{free_port()}/mcp", MCP_RETRY_AFTER_SECONDS="3")
    frontend = start_frontend(backend.base_url)
    sign_up_through_ui(page, frontend.base_url)

    page.get_by_label("Message", exact=True).fill("add a task to buy milk")
    page.get_by_role("button", name="Send").click()
    alert = page.locator(ALERT)
    expect(alert).to_have_text(re.compile(r"^Assistant unavailable, retry in [1-3] s\.$"))
    expect(page.get_by_role("button", name="Send")).to_be_disabled()
    # The unanswered message goes back into the input for the retry.
    expect(page.get_by_label("Message", exact=True)).to_have_value("add a task to buy milk")

    add_task(page, "Works without the assistant")

    # The countdown runs out, sending is possible again, and the answer is the same while MCP is down.
    expect(alert).to_have_count(0, timeout=10_000)
    page.get_by_role("button", name="Send").click()
    expect(alert).to_have_text(re.compile(r"^Assistant unavailable, retry in [1-3] s\.$"))
    shot = tmp_path / "taskflow-assistant-unavailable.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")


def test_backend_down_is_reported_not_hidden(
    page: Page, start_frontend: Callable[[str], FrontendProcess]
) -> None:
    frontend = start_frontend(f"http://127.0.0.1:{free_port()}")
    page.goto(frontend.base_url + "/signup")
    page.get_by_label("Email").fill("nobody@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator(ALERT)).to_have_text(re.compile("server is unavailable"))
    assert httpx.get(frontend.base_url + "/api/health", timeout=5).json()["status"] == "ok"
