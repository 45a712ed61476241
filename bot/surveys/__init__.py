"""Satisfaction: the CSAT after a PQR closes, NPS campaigns, their answers and results."""
