"""Make and model reference data: a curated file shipped with Forecourt, with stable
integer ids (the vendor's Audi is 190 and its A4 3813; the rest are ours).

Besides names, each make says what the demo stock (demo.py) may give its vehicles, so
that nothing crosses makes: its VINs' manufacturer codes (WMI, real ones), its versions
per fuel, its trim lines and usual driven wheels; each model the year it was first
sold, its body types (the vehicleTypeId keys, the usual one first), its fuels, and
versions or driven wheels of its own where the make's do not fit it."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import msgspec

_FILE = Path(__file__).with_name("reference") / "makes.json"


class Model(msgspec.Struct, frozen=True, rename="camel"):
    model_id: int
    model_name: str
    since: int  # the year the model (its first generation) was first sold
    types: tuple[int, ...]
    fuels: tuple[str, ...]
    versions: dict[str, tuple[str, ...]] = msgspec.field(default_factory=dict)  # fuel -> its own
    drive: str | None = None  # the make's unless given


class Make(msgspec.Struct, frozen=True, rename="camel"):
    make_id: int
    make_name: str
    wmis: tuple[str, ...]
    drive: str
    trim_lines: tuple[str, ...]
    versions: dict[str, tuple[str, ...]]  # fuel -> versions
    models: tuple[Model, ...]


class _File(msgspec.Struct, frozen=True):
    makes: tuple[Make, ...]


@cache
def makes() -> tuple[Make, ...]:
    return msgspec.json.decode(_FILE.read_bytes(), type=_File).makes


@cache
def _by_id() -> dict[int, Make]:
    return {make.make_id: make for make in makes()}


@cache
def _by_name() -> dict[str, Make]:
    return {make.make_name.casefold(): make for make in makes()}


def make_by_id(make_id: int) -> Make | None:
    return _by_id().get(make_id)


def make_by_name(name: str) -> Make | None:
    return _by_name().get(name.casefold())


def model_by_id(make: Make, model_id: int) -> Model | None:
    return next((m for m in make.models if m.model_id == model_id), None)


def model_by_name(make: Make, name: str) -> Model | None:
    folded = name.casefold()
    return next((m for m in make.models if m.model_name.casefold() == folded), None)
