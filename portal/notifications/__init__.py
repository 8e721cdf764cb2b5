"""In-app notifications and each person's email preferences."""
