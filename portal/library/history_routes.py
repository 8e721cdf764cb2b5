"""A document's history: its published versions, one old version, and what changed between two."""

from flask import abort, render_template, request
from flask_login import current_user, login_required

from portal.access.permissions import can_edit_document
from portal.extensions import db
from portal.library import browsing
from portal.library.diffing import diff_text, title_change
from portal.library.rendering import render
from portal.library.routes import bp, document_or_404
from portal.library.services import attachment_urls, current_draft


def _numbers(document):
    """Version numbers the signed-in person may compare, newest first (drafts for authors)."""
    return browsing.version_numbers(document, with_draft=can_edit_document(current_user, document))


@bp.route("/library/<int:document_id>/history")
@login_required
def history(document_id):
    document = document_or_404(document_id, with_version=True)
    page = db.paginate(browsing.version_history(document), per_page=25, error_out=False)
    numbers = _numbers(document)
    draft = current_draft(document) if can_edit_document(current_user, document) else None
    return render_template(
        "library/history.html",
        document=document,
        page=page,
        numbers=numbers,
        draft=draft,
        compare_from=numbers[1] if len(numbers) > 1 else None,
        compare_to=numbers[0] if numbers else None,
    )


@bp.route("/library/<int:document_id>/versions/<int:number>")
@login_required
def version(document_id, number):
    document = document_or_404(document_id, with_version=True)
    shown = browsing.find_version(document, number, current_user)
    if shown is None:
        abort(404)
    rendered = None
    if not shown.is_published:  # a draft, for its authors: render it as it would look
        rendered = render(shown.body, attachment_urls(document))
    return render_template(
        "library/version.html", document=document, shown=shown, rendered=rendered
    )


def _parse_pair(args, numbers: list[int]) -> tuple[tuple[int, int] | None, str | None]:
    """(old, new) version numbers from ``from`` and ``to``, or a message saying what is wrong."""
    raw = {name: (args.get(name) or "").strip() for name in ("from", "to")}
    if not raw["from"] or not raw["to"]:
        return None, "Choose two versions to compare."
    try:
        low, high = int(raw["from"]), int(raw["to"])
    except ValueError:
        bad = raw["from"] if not raw["from"].lstrip("-").isdigit() else raw["to"]
        return None, f"“{bad[:20]}” is not a version number. Choose two versions from the lists."
    if low == high:
        return None, f"Both sides are version {low}. Choose two different versions."
    if missing := [n for n in (low, high) if n not in numbers]:
        return None, f"This document has no version {missing[0]} you can read."
    return (min(low, high), max(low, high)), None


@bp.route("/library/<int:document_id>/diff")
@login_required
def diff(document_id):
    document = document_or_404(document_id, with_version=True)
    numbers = _numbers(document)
    pair, problem = _parse_pair(request.args, numbers)
    draft = current_draft(document) if can_edit_document(current_user, document) else None
    context = dict(document=document, numbers=numbers, problem=problem, draft=draft)
    if pair is None:
        asked = [request.args.get(name, type=int) for name in ("from", "to")]
        defaults = [numbers[1] if len(numbers) > 1 else None, numbers[0] if numbers else None]
        context.update(
            compare_from=asked[0] if asked[0] in numbers else defaults[0],
            compare_to=asked[1] if asked[1] in numbers else defaults[1],
        )
        return render_template("library/diff.html", **context), 400
    low, high = pair
    old = browsing.find_version(document, low, current_user)
    between = browsing.versions_between(document, low, high)
    new = between[-1]
    return render_template(
        "library/diff.html",
        **context,
        old=old,
        new=new,
        between=between,
        title=title_change(old.title, new.title),
        changes=diff_text(old.body, new.body),
        compare_from=low,
        compare_to=high,
    )
