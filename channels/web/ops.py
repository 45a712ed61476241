"""The web's ops routes (to be filled)."""

from __future__ import annotations

from fastapi import APIRouter

from channels.web.services import WebServices


def routes(services: WebServices) -> APIRouter:
    """The ops routes."""
    return APIRouter()
