"""Queries, one module per aggregate; shared by the REST API and the MCP tools."""
