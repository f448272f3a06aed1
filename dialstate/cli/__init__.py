"""The `dialstate` command line (typer + rich)."""

from __future__ import annotations

from dialstate.cli.app import app, main

__all__ = ["app", "main"]
