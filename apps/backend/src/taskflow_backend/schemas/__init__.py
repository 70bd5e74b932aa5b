"""Pydantic models for request and response bodies (also the MCP tools' structured results)."""
