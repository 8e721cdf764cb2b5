"""`flask --app wsgi search ...`: operating the search index."""

from flask.cli import AppGroup

search_cli = AppGroup("search", help="Operate the search index.")
