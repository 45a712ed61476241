"""The web: one ASGI app (FastAPI) on uvicorn inside `pqrbot run` — the public filing form and
tracking, the staff pages and dashboard, the REST API, /healthz and /metrics."""
