"""Contractual penalties: the workflow service, the notices to areas and accounting, the cards
managers decide on, the monthly report, and the `/pqr penalty` verbs."""
