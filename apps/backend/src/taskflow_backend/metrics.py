"""Prometheus metrics, served at /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "taskflow_http_requests_total", "HTTP requests handled", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "taskflow_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.5, 5.0, 10.0),
)
MCP_CALLS = Counter("taskflow_mcp_calls_total", "MCP tool calls by outcome", ["tool", "outcome"])
MCP_BREAKER_OPEN = Gauge("taskflow_mcp_breaker_open", "1 while the MCP circuit breaker refuses calls")
CHAT_UNAVAILABLE = Counter("taskflow_chat_unavailable_total", "Chat requests answered 503 (MCP unavailable)")
