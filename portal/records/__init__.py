"""Records kept safe: every compliance record exported to one file that can be verified."""
