"""Request bodies the edges decode themselves (streamed uploads), with errors that name
the field the way Litestar's own validation does."""

from __future__ import annotations

import hashlib
import mmap
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import IO, Any, NamedTuple

import msgspec
from litestar import Request

from forecourt.kit.errors import InvalidInput, invalid_from


def decode(data: Any, type_: type[Any]) -> Any:
    """msgspec decode; a bad body becomes InvalidInput naming the field."""
    try:
        return msgspec.json.decode(data, type=type_)
    except msgspec.ValidationError as exc:
        raise invalid_from(exc) from None
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidInput("body", f"Malformed JSON body: {exc}") from None


class SpooledBody(NamedTuple):
    file: IO[bytes]
    size: int
    sha256: str


@asynccontextmanager
async def spooled(request: Request[Any, Any, Any]) -> AsyncIterator[SpooledBody]:
    """The body streamed to a temporary file (the size limit is enforced while reading),
    so a large upload never sits in memory whole."""
    with tempfile.TemporaryFile() as file:
        digest = hashlib.sha256()
        size = 0
        async for piece in request.stream():
            file.write(piece)
            digest.update(piece)
            size += len(piece)
        file.flush()
        yield SpooledBody(file, size, digest.hexdigest())


@contextmanager
def mapped(body: SpooledBody) -> Iterator[memoryview]:
    """The spooled body as a read-only buffer backed by the file, not by memory."""
    if body.size == 0:
        raise InvalidInput("body", "body: a JSON body is required")
    mapping = mmap.mmap(body.file.fileno(), 0, access=mmap.ACCESS_READ)
    view = memoryview(mapping)
    try:
        yield view
    finally:
        try:
            view.release()
            mapping.close()
        except BufferError:
            # Slices of it are still referenced (say, by an exception's traceback); the
            # mapping is unmapped when the last of them goes.
            pass
