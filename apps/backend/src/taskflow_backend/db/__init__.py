"""Database access shared by the backend and the MCP server: models, engine, migrations."""
