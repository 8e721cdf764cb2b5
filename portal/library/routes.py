"""The library: browsing, reading, writing, history."""

from flask import Blueprint

bp = Blueprint("library", __name__)
