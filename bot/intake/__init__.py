"""Inbound messages become PQRs or join one: normalized messages in, group commits shared by
concurrent callers, the filing path that every channel uses."""
