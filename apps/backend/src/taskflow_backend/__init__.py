"""Taskflow backend: auth, tasks REST API and the chat endpoint that calls the MCP tools."""

__version__ = "0.1.0"
