"""The HTTP API: dependencies, error handlers, middleware and routes."""
