"""Indicators and the reports built on them (KPIs, client ANS reports, the monthly report)."""
