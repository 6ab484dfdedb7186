"""HTTP-only errors, in FraudGuard's tree so the one handler maps them."""

from __future__ import annotations

from fraudguard.exceptions import InputError

__all__ = ["PayloadTooLargeError", "UnsupportedMediaTypeError"]


class PayloadTooLargeError(InputError):
    code = "payload_too_large"
    status_code = 413


class UnsupportedMediaTypeError(InputError):
    code = "unsupported_media_type"
    status_code = 415
