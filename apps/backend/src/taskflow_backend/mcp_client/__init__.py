"""Calling the MCP server's task tools, with timeouts and a circuit breaker."""
