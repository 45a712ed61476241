"""Deadlines watched over time: near-breach alerts, the daily digest, and the scheduler that runs
them once across instances (a leader lease)."""
