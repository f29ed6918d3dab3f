"""Query strings as the npm `qs` package writes them (brackets, percent-encoded or not),
decoded by `qs-codec`, the Python port of the same rules."""

from __future__ import annotations

from typing import Any

from litestar import Request
from qs_codec import DecodeOptions, decode

from forecourt.kit.errors import InvalidInput

_OPTIONS = DecodeOptions(depth=5, strict_depth=True, parameter_limit=1000, raise_on_limit_exceeded=True)


def parameters(request: Request[Any, Any, Any]) -> dict[str, Any]:
    raw = request.scope.get("query_string", b"").decode("utf-8", "replace")
    try:
        return dict(decode(raw, _OPTIONS))
    except (ValueError, IndexError) as exc:
        raise InvalidInput("query", f"query string: {exc}") from None
