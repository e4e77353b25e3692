"""The HTTP service: alerts, ticks and notification history over HTTP, live notifications over WebSocket."""
