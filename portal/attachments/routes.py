"""Uploading, listing and downloading a document's attachments."""

from flask import Blueprint

bp = Blueprint("attachments", __name__)
