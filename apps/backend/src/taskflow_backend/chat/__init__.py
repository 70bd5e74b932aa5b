"""The chat agent: plain English in, MCP tool calls out."""
