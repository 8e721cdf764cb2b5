"""Reminders of what is due soon or overdue: `flask --app wsgi reminders send`."""
