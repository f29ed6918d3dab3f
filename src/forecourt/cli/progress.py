"""Progress bars on stderr (stdout carries the command's JSON result)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import IO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from forecourt.kit.errors import InvalidInput

Advance = Callable[[int], None]


def bar(*, as_bytes: bool = False) -> Progress:
    counter = TextColumn("{task.percentage:>3.0f}%") if as_bytes else MofNCompleteColumn()
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        counter,
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )


def numbered_lines(file: IO[bytes], advance: Advance) -> Iterator[tuple[int, bytes]]:
    """A file's lines, numbered from 1, moving the bar by their bytes."""
    for number, line in enumerate(file, start=1):
        advance(len(line))
        yield number, line


def text_lines(lines: Iterator[tuple[int, bytes]]) -> Iterator[str]:
    """The lines as text (for a CSV reader); a line that is not UTF-8 stops the file."""
    for number, line in lines:
        try:
            yield line.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput("file", f"line {number} is not UTF-8; batches before it were stored") from None
