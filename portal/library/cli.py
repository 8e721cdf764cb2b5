"""`flask --app wsgi content ...`: documents kept as Markdown files."""

from flask.cli import AppGroup

content_cli = AppGroup("content", help="Load the library's documents from Markdown files.")
