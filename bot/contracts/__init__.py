"""Clients, contracts (ANS) and areas: the contract files parsed and validated, and the service
that says which contract a sender falls under."""
