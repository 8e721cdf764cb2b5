"""Helpers shared by the roster import tests: files, uploads and counts."""

import io

from sqlalchemy import func, select

from portal.extensions import db
from portal.people.models import User
from portal.roster import services
from portal.roster.models import RosterImport
from tests.helpers import post

HEADER = "email,name,team,role,hire_date,language,timezone"
URL = "/people/import"


def make_acme(make_partner, make_team, make_user):
    """A partner with two teams, its trainer, and a second partner with one of its people."""
    partner = make_partner(slug="acme", name="Acme", timezone="Asia/Manila")
    voice = make_team(partner=partner, name="Voice", timezone="Europe/Vilnius", language="lt")
    chat = make_team(partner=partner, name="Chat", timezone="Asia/Manila", language="en")
    trainer = make_user(role="trainer", partner=partner, email="trainer@acme.example.com")
    other = make_partner(slug="globex", name="Globex")
    outsider = make_user(
        role="agent", partner=other, email="taken@globex.example.com", password=None
    )
    return {
        "partner": partner,
        "voice": voice,
        "chat": chat,
        "trainer": trainer,
        "other": other,
        "outsider": outsider,
    }


def csv_bytes(*rows, header=HEADER, encoding="utf-8", newline="\n"):
    return (newline.join([header, *rows]) + newline).encode(encoding)


def upload(client, data, partner_id, filename="roster.csv"):
    fields = {"partner_id": partner_id, "file": (io.BytesIO(data), filename)}
    response = post(client, URL, fields, token_from=URL, content_type="multipart/form-data")
    # Werkzeug's test client spools bodies over 500 KB to a temporary file it never closes.
    response.request.environ["wsgi.input"].close()
    return response


def people_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def imports_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(RosterImport))


def person(app, email):
    with app.app_context():
        found = db.session.scalars(select(User).where(User.email == email)).first()
        if found is not None:
            db.session.expunge(found)
        return found


def import_and_apply(app, actor_id, partner_id, data, send=False):
    """Upload and apply through the services; returns (preview summary, applied summary)."""
    with app.app_context():
        actor = db.session.get(User, actor_id)
        roster_import = services.create_import(actor, partner_id, "r.csv", data)
        preview = dict(roster_import.summary)
        applied = services.apply_import(actor, roster_import, send_invitations=send)
        db.session.commit()
        return preview, applied


def preview_rows(app, actor_id, partner_id, data):
    """The stored preview rows of an upload (nothing applied)."""
    with app.app_context():
        actor = db.session.get(User, actor_id)
        roster_import = services.create_import(actor, partner_id, "r.csv", data)
        db.session.commit()
        return roster_import.rows
