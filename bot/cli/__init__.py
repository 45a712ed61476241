"""The `pqrbot` command line (DESIGN.md's CLI), one module per command family."""

from bot.cli.main import main

__all__ = ["main"]
