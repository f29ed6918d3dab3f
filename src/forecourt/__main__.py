"""`python -m forecourt` is the `forecourt` command."""

from forecourt.cli.main import app

app()
