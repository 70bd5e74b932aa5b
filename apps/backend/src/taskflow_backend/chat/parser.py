"""A deterministic reading of plain-English task requests.

It understands the requests people type into the chat panel ("add a task to buy milk",
"what's pending?", "mark task 3 as complete", "delete the meeting task", "rename task 2 to ...").
Anything else is `Unrecognised`, answered with a hint rather than a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from taskflow_backend.crud.tasks import TaskStatus

TaskRef = int | str
"""A task by id, or by a fragment of its title."""


@dataclass(frozen=True)
class AddTask:
    title: str


@dataclass(frozen=True)
class ListTasks:
    status: TaskStatus


@dataclass(frozen=True)
class SetCompleted:
    ref: TaskRef
    completed: bool


@dataclass(frozen=True)
class DeleteTask:
    ref: TaskRef


@dataclass(frozen=True)
class RenameTask:
    ref: TaskRef
    title: str


@dataclass(frozen=True)
class Unrecognised:
    text: str


Intent = AddTask | ListTasks | SetCompleted | DeleteTask | RenameTask | Unrecognised

_FLAGS = re.IGNORECASE | re.DOTALL
_DONE_WORDS = r"complete|completed|done|finished"
_UNDONE_WORDS = r"incomplete|not complete|not done|pending|undone|open|to ?do"

_RENAME = [
    re.compile(r"^(?:rename|retitle)\s+(?P<ref>.+?)\s+(?:to|as)\s+(?P<title>.+)$", _FLAGS),
    re.compile(
        r"^(?:change|update|edit|set)\s+(?:the\s+)?(?:title\s+of\s+|name\s+of\s+)?(?P<ref>.+?)"
        r"(?:'s|\s+)?(?:\s*title|\s*name)?\s+to\s+(?P<title>.+)$",
        _FLAGS,
    ),
]
_MARK = re.compile(
    rf"^(?:mark|set|flag)\s+(?P<ref>.+?)\s+(?:as\s+)?(?P<state>{_UNDONE_WORDS}|{_DONE_WORDS})$", _FLAGS
)
_COMPLETE = re.compile(r"^(?:complete|finish|check\s+off|tick\s+off|close)\s+(?P<ref>.+)$", _FLAGS)
_REOPEN = re.compile(r"^(?:reopen|re-open|uncomplete|undo)\s+(?P<ref>.+)$", _FLAGS)
_DELETE = re.compile(r"^(?:delete|remove|drop|erase|get\s+rid\s+of)\s+(?P<ref>.+)$", _FLAGS)
_ADD = [
    re.compile(r"^remind\s+me\s+to\s+(?P<title>.+)$", _FLAGS),
    re.compile(
        r"^(?:add|create|new|make)\s+(?:a\s+|an\s+)?(?:new\s+)?(?:task|todo|to-do|item)?"
        r"\s*(?::|to\b|called\b|named\b|for\b)?\s*(?P<title>.+)$",
        _FLAGS,
    ),
    re.compile(r"^i\s+(?:need|have|want)\s+to\s+(?P<title>.+)$", _FLAGS),
]
_LIST_CUES = re.compile(
    r"\b(?:list|show|display|view|see|what|which|whats|what's|tasks?|todos?|pending|completed|done|left)\b",
    _FLAGS,
)
_PENDING_CUES = re.compile(
    r"\b(?:pending|incomplete|open|left|remaining|outstanding|unfinished|to ?do)\b", _FLAGS
)
_COMPLETED_CUES = re.compile(r"\b(?:completed|complete|done|finished)\b", _FLAGS)
_POLITE_PREFIX = re.compile(r"^(?:please|pls|can you|could you|would you|hey|ok|okay)[\s,]+", re.IGNORECASE)
_TASK_ID = re.compile(r"^(?:the\s+)?(?:task|item|todo|number|no\.?)?\s*#?\s*(?P<id>\d{1,9})$", re.IGNORECASE)
_REF_NOISE = re.compile(r"^(?:the|my|a)\s+|\s+(?:task|item|todo|one)$|^(?:task|item|todo)\s+", re.IGNORECASE)


def parse(message: str) -> Intent:
    text = _normalise(message)
    for pattern in _RENAME:
        if match := pattern.match(text):
            return RenameTask(_ref(match["ref"]), _clean_title(match["title"]))
    if match := _MARK.match(text):
        done = re.fullmatch(_DONE_WORDS, match["state"], re.IGNORECASE) is not None
        return SetCompleted(_ref(match["ref"]), completed=done)
    if match := _COMPLETE.match(text):
        return SetCompleted(_ref(match["ref"]), completed=True)
    if match := _REOPEN.match(text):
        return SetCompleted(_ref(match["ref"]), completed=False)
    if match := _DELETE.match(text):
        return DeleteTask(_ref(match["ref"]))
    for pattern in _ADD:
        if (match := pattern.match(text)) and _clean_title(match["title"]):
            return AddTask(_clean_title(match["title"]))
    if _LIST_CUES.search(text):
        return ListTasks(_status_of(text))
    return Unrecognised(message)


def _normalise(message: str) -> str:
    text = " ".join(message.split())
    text = _POLITE_PREFIX.sub("", text)
    return text.rstrip(" .!?")


def _status_of(text: str) -> TaskStatus:
    if re.search(r"\ball\b", text, re.IGNORECASE):
        return TaskStatus.ALL
    if _PENDING_CUES.search(text):
        return TaskStatus.PENDING
    if _COMPLETED_CUES.search(text):
        return TaskStatus.COMPLETED
    return TaskStatus.ALL


def _ref(raw: str) -> TaskRef:
    text = _strip_quotes(raw.strip())
    if match := _TASK_ID.match(text):
        return int(match["id"])
    previous = None
    while previous != text:
        previous, text = text, _strip_quotes(_REF_NOISE.sub("", text).strip())
    return text


def _clean_title(raw: str) -> str:
    return _strip_quotes(raw.strip().rstrip(" .!?"))


def _strip_quotes(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'`":
        return text[1:-1].strip()
    return text
