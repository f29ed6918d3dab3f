"""Make and model reference data: a curated file shipped with Forecourt, with stable
integer ids (the vendor's Audi is 190 and its A4 3813; the rest are ours)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import msgspec

_FILE = Path(__file__).with_name("reference") / "makes.json"


class Model(msgspec.Struct, frozen=True, rename="camel"):
    model_id: int
    model_name: str


class Make(msgspec.Struct, frozen=True, rename="camel"):
    make_id: int
    make_name: str
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
