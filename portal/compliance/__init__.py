"""Compliance reporting: obligations, the dashboard, person pages, exports and business reviews."""
