"""Acknowledging documents, and who has acknowledged what."""

from flask import Blueprint

bp = Blueprint("acknowledgements", __name__)
