"""The web's public routes (to be filled)."""

from __future__ import annotations

from fastapi import APIRouter

from channels.web.services import WebServices


def routes(services: WebServices) -> APIRouter:
    """The public routes."""
    return APIRouter()
