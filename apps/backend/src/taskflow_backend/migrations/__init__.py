"""Alembic environment and revisions for the Taskflow schema."""
