"""Progress bars on stderr (stdout carries the command's JSON result)."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

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
