"""The process around `pqrbot run` (bot/runner.py): where the logs go, the start-up banner on a
terminal, and who holds a busy listen port."""
