"""Taskflow MCP server: add_task, list_tasks, complete_task, delete_task, update_task."""

__version__ = "0.1.0"
