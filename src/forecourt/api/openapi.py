"""What the OpenAPI document says beyond the handlers' signatures, in Litestar's own terms:
each dialect's error envelope, the statuses an operation can answer (400, 429 and 503 on
every one, 429 and 503 with Retry-After), and the bodies and query parameters that the
edges read themselves (streamed uploads, qs query strings, the vendors' lenient bodies).

A dialect makes one `Errors` from its envelope; a handler takes
`**ERRORS.documented(401, 404, body=Shape)`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    RequestBody,
    Schema,
)

DESCRIPTIONS = {
    400: "Bad input: the message names the field",
    401: "Missing or invalid credentials",
    403: "Not this account's",
    404: "Not found in this account",
    409: "Conflicts with what is stored",
    413: "The body is larger than the server accepts",
    422: "The Idempotency-Key was used for a different request",
    429: "Too many requests: try again after Retry-After seconds",
    503: "The database is unavailable: try again after Retry-After seconds",
}
# Every operation can answer these: bad text in the URL (a NUL), the rate limit, the database away.
EVERY_OPERATION = (400, 429, 503)
RETRY_AFTER = OpenAPIHeader(
    schema=Schema(type=OpenAPIType.INTEGER, minimum=0),
    description="Seconds to wait before trying again",
    required=True,
)


def success(shape: Any, status: int = 200, description: str = "Success") -> dict[int, ResponseSpec]:
    """The answer an operation gives when it succeeds (for `Errors.documented(responses=)`)."""
    return {status: ResponseSpec(shape, description=description, generate_examples=False)}


def json_schema(shape: Any) -> dict[str, Any]:
    """A request shape's JSON Schema, self-contained (its definitions inlined)."""
    schema = msgspec.json.schema(shape)
    definitions = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(definitions[ref.removeprefix("#/$defs/")])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    inlined: dict[str, Any] = inline(schema)
    return inlined


def _operation_class(
    headers: Mapping[str, Mapping[str, OpenAPIHeader]],
    body: RequestBody | None,
    parameters: Sequence[Parameter],
) -> type[Operation]:
    """An Operation that adds what a signature cannot say: response headers of the error
    statuses, a body the handler reads itself, query parameters qs decodes."""

    @dataclass
    class Documented(Operation):
        def __post_init__(self) -> None:
            for status, response in (self.responses or {}).items():
                if isinstance(response, OpenAPIResponse) and status in headers:
                    response.headers = {**(response.headers or {}), **headers[status]}
            if body is not None:
                self.request_body = body
            if parameters:
                self.parameters = [*(self.parameters or []), *parameters]

    return Documented


class Errors:
    """One dialect's error envelope in the document."""

    def __init__(self, envelope: Any, headers: Mapping[int, Mapping[str, OpenAPIHeader]] | None = None):
        self.envelope = envelope
        self.headers = {str(status): dict(h) for status, h in (headers or {}).items()}
        for status in (429, 503):
            self.headers.setdefault(str(status), {})["Retry-After"] = RETRY_AFTER

    def documented(
        self,
        *statuses: int,
        body: Any = None,
        responses: Mapping[int, ResponseSpec] | None = None,
        media_types: Sequence[str] = ("application/json",),
        body_description: str | None = None,
        parameters: Sequence[Parameter] = (),
    ) -> dict[str, Any]:
        """Route handler keywords: the error answers (in this dialect's envelope) of the
        statuses given and those of every operation; a body the handler reads itself (413
        too, then); other answers (`responses`, say a success the return type cannot
        describe); query parameters the signature does not declare."""
        codes = {*statuses, *EVERY_OPERATION, *((413,) if body is not None else ())}
        specs = {
            code: ResponseSpec(self.envelope, description=DESCRIPTIONS[code], generate_examples=False)
            for code in sorted(codes)
        }
        request_body = None
        if body is not None:
            schema = json_schema(body)
            request_body = RequestBody(
                required=True,
                description=body_description,
                # A JSON Schema as msgspec writes it: Litestar renders a dict as it is.
                content={media: OpenAPIMediaType(schema=schema) for media in media_types},  # type: ignore[arg-type]
            )
        return {
            "responses": {**specs, **(responses or {})},
            "operation_class": _operation_class(self.headers, request_body, parameters),
        }
