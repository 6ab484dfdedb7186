"""The HTTP service (DESIGN.md section 3): ``create_app`` builds it, ``fraudguard serve``
runs it with uvicorn."""

from fraudguard.api.app import create_app

__all__ = ["create_app"]
