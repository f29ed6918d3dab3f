"""Every setting and every CLI flag is documented in docs/configuration.md."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from forecourt.cli.main import app
from forecourt.config import Settings

DOC = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()


def _flags(command: click.Command) -> set[str]:
    found = {opt for p in command.params if isinstance(p, click.Option) for opt in p.opts}
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            found |= _flags(sub)
    return found


@pytest.mark.parametrize("name", Settings.env_names())
def test_every_setting_is_documented(name: str) -> None:
    assert f"`{name}`" in DOC


@pytest.mark.parametrize("flag", sorted(_flags(app) - {"--help"}))
def test_every_cli_flag_is_documented(flag: str) -> None:
    assert flag in DOC


def test_settings_read_environment_and_overrides() -> None:
    env = {
        "FORECOURT_PORT": "9001",
        "FORECOURT_EMBEDDED_WORKER": "false",
        "FORECOURT_HOST": "0.0.0.0",
    }

    settings = Settings.load(env, host="10.0.0.1", port=None)

    assert settings.port == 9001
    assert settings.embedded_worker is False
    assert settings.host == "10.0.0.1"


def test_an_invalid_setting_names_the_field() -> None:
    with pytest.raises(ValueError, match="port"):
        Settings.load({"FORECOURT_PORT": "eighty"})
