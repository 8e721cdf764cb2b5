"""/search: the library's search page."""

from flask import Blueprint

bp = Blueprint("search", __name__)
