"""The web's shared answers: security headers, a clear page for an unknown path, JSON errors under
/api, a body over the limit refused — on the real server."""

from __future__ import annotations

from tests.channels.web.conftest import WebWorld


async def test_an_unknown_page_is_a_clear_404_with_security_headers(web: WebWorld) -> None:
    r = await web.client.get("/no/such/page", headers={"Accept-Language": "en"})
    assert r.status_code == 404 and "The page does not exist." in r.text and "Traceback" not in r.text
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in r.headers["content-security-policy"]
    es = await web.client.get("/no/such/page")
    assert "La página no existe." in es.text


async def test_api_errors_are_json(web: WebWorld) -> None:
    r = await web.client.get("/api/v1/nothing")
    assert r.status_code == 404 and set(r.json()) == {"error", "detail"}


async def test_a_body_over_the_limit_is_refused(web: WebWorld) -> None:
    r = await web.client.post("/api/v1/pqrs", content=b"x" * (10 * 1024 * 1024), headers={"Content-Type": "text/plain"})
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    r = await web.client.post("/staff/pqr/X/note", content=b"x" * (10 * 1024 * 1024))
    assert r.status_code == 413 and "demasiado grande" in r.text
    form = web.web.config.form
    r = await web.client.post("/", content=b"x" * (form.max_files * form.max_file_bytes + 2 * 1024 * 1024),
                              headers={"Content-Type": "text/plain"})
    assert r.status_code == 413
