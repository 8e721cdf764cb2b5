"""Content as files: Markdown documents with YAML front matter, synced into the library.

Each ``*.md`` file of a folder (``README.md`` aside) is one company-wide document, found by
its slug. A file whose slug is new creates and publishes the document; for a known slug the
settings (kind, tags, audience, acknowledgement, review date) are brought in line with the
file, and a new version is published only when the title or the text changed. The file is the
source of truth: edit the file, not the portal, for documents that come from files.

Every file is checked completely before anything is written, and each file is applied in its
own savepoint, so a bad file changes nothing while the good ones are applied; the command
commits once at the end (one search-index update for the whole sync).
"""

from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from portal.audiences.services import AudienceSpec, check_audience
from portal.audit.services import Actions, record
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.library import services
from portal.library.content_files import (
    AUDIENCE_FIELDS,
    ContentFile,
    ContentFileError,
    content_paths,
    read_content_file,
)
from portal.library.models import ChangeLevel, Document, DocumentStatus, DocumentVersion
from portal.partners.models import Partner, Team

CREATED = "created"
NEW_VERSION = "new version"
SETTINGS_UPDATED = "settings updated"
UNCHANGED = "unchanged"
ERROR = "error"
OUTCOMES = (CREATED, NEW_VERSION, SETTINGS_UPDATED, UNCHANGED, ERROR)


@dataclass
class SyncResult:
    """What syncing one file did (or, in a dry run, would do)."""

    file: str
    outcome: str
    message: str = ""
    slug: str | None = None
    version: int | None = None
    change_level: str | None = None

    @property
    def label(self) -> str:
        """'new version 2 (material)', 'created', 'error', …"""
        if self.outcome == NEW_VERSION:
            return f"{NEW_VERSION} {self.version} ({self.change_level})"
        return self.outcome

    @property
    def failed(self) -> bool:
        return self.outcome == ERROR


def default_folder() -> Path:
    """The repository's ``content/`` folder (beside the ``portal`` package, whatever the cwd)."""
    return Path(current_app.root_path).parent / "content"


def sync_folder(folder: Path | None = None, *, owner=None, dry_run=False) -> list[SyncResult]:
    """Sync every document file in ``folder`` (default :func:`default_folder`), by file name.

    Each file is applied in its own savepoint (see :func:`sync_file`); the caller commits. Two
    files with the same slug are both refused: neither is applied. ``owner`` (a staff User)
    owns the documents it creates. ``dry_run`` checks and reports without writing anything.
    """
    parsed: list[ContentFile | SyncResult] = []
    for path in content_paths(folder or default_folder()):
        try:
            parsed.append(read_content_file(path))
        except ContentFileError as error:
            parsed.append(SyncResult(path.name, ERROR, str(error)))
    files_by_slug: dict[str, list[str]] = {}
    for item in parsed:
        if isinstance(item, ContentFile):
            files_by_slug.setdefault(item.slug, []).append(item.name)
    results = []
    for item in parsed:
        if isinstance(item, SyncResult):
            results.append(item)
            continue
        others = [name for name in files_by_slug[item.slug] if name != item.name]
        if others:
            message = (
                f"slug: “{item.slug}” is also the slug of {', '.join(others)}; give each file "
                "its own slug (none of these files was synced)."
            )
            results.append(SyncResult(item.name, ERROR, message, slug=item.slug))
            continue
        results.append(sync_file(item, owner=owner, dry_run=dry_run))
    return results


def sync_file(content: ContentFile, *, owner=None, dry_run=False) -> SyncResult:
    """Apply one checked file to the library in a savepoint; a refused file changes nothing.

    A dry run goes through every step and rolls its savepoint back, so it reports exactly
    what would happen. The caller commits.
    """
    savepoint = db.session.begin_nested()
    try:
        result = _apply(content, owner=owner)
    except (ContentFileError, InvalidInput) as error:
        savepoint.rollback()
        if isinstance(error, InvalidInput):
            error = ContentFileError([_field_message(k, v) for k, v in error.errors.items()])
        return SyncResult(content.name, ERROR, str(error), slug=content.slug)
    if dry_run:
        savepoint.rollback()
    else:
        savepoint.commit()
    return result


AUDIENCE_ERROR_FIELDS = {f"audience_{k}": f"audience.{k}" for k in AUDIENCE_FIELDS}


def _field_message(key: str, message: str) -> str:
    key = AUDIENCE_ERROR_FIELDS.get(key, key)
    return f"{key}: {message}" if key else message


def _apply(content: ContentFile, *, owner) -> SyncResult:
    details = services.DocumentDetails(
        title=content.title,
        kind=content.kind,
        slug=content.slug,
        tags=list(content.tags),
        audience=_resolve_audience(content.audience),
        requires_ack=content.requires_ack,
        attestation=content.attestation,
        review_by=content.review_by,
    )
    document = db.session.scalars(select(Document).where(Document.slug == content.slug)).first()
    result = SyncResult(content.name, UNCHANGED, slug=content.slug)
    if document is None:
        document = services.create_document(
            None, details, body=content.body, summary=content.summary, owner=owner
        )
        services.publish(None, document)
        result.outcome, result.version, result.change_level = CREATED, 1, ChangeLevel.MATERIAL
        result.message = f"version 1 of “{content.title}”"
        _record(document, result)
        return result

    if document.partner_id is not None:
        raise ContentFileError(
            f"slug: “{content.slug}” belongs to a partner-local document; content sync only "
            "manages company-wide documents. Give this file another slug."
        )
    current = db.session.get(DocumentVersion, document.current_version_id or 0)
    # A review confirmed in the portal moves review_by later; the file does not undo that.
    if document.review_by and (not details.review_by or details.review_by < document.review_by):
        details.review_by = document.review_by
    text_changed = current is None or (current.title, current.body) != (
        content.title,
        content.body,
    )
    changed_settings = _changed_settings(document, details)
    if not text_changed and not changed_settings:
        result.message = f"version {current.number}"
        return result
    if document.status == DocumentStatus.ARCHIVED:
        raise ContentFileError(
            "the document is archived; restore it in the portal before changing it here."
        )
    if text_changed:
        _check_new_version(document, current, content)
    if changed_settings:
        services.update_details(None, document, details)
        result.outcome = SETTINGS_UPDATED
        result.message = f"changed {', '.join(changed_settings)}"
    if text_changed:
        services.save_draft(
            None,
            document,
            title=content.title,
            body=content.body,
            summary=content.summary,
            change_level=content.change,
        )
        version = services.publish(None, document)
        also = f"; also {result.message}" if changed_settings else ""
        result.outcome, result.version = NEW_VERSION, version.number
        result.change_level = version.change_level
        result.message = f"{version.summary}{also}"
    _record(document, result)
    return result


def _check_new_version(document: Document, current, content: ContentFile) -> None:
    draft = services.current_draft(document)
    if draft is not None:
        raise ContentFileError(
            f"a draft of version {draft.number} was started in the portal; publish it there "
            "first so the file does not overwrite it, then sync again."
        )
    if current is None:
        return
    if not content.summary:
        raise ContentFileError(
            f"summary: the text differs from version {current.number}; say in the summary "
            "what changed in this version."
        )
    if content.summary == current.summary:
        raise ContentFileError(
            f"summary: “{content.summary}” is the summary of version {current.number}; "
            "say what changed this time."
        )


def _resolve_audience(fields: dict[str, list[str]]) -> AudienceSpec:
    """Partner slugs and 'partner-slug/Team name' into ids; raises ContentFileError."""
    errors = []
    partner_ids = []
    for slug in fields.get("partners", []):
        partner_id = db.session.scalar(select(Partner.id).where(Partner.slug == slug.lower()))
        if partner_id is None:
            errors.append(f"audience.partners: no partner has the slug “{slug}”.")
        partner_ids.append(partner_id)
    team_ids = []
    for ref in fields.get("teams", []):
        slug, _, name = ref.partition("/")
        if not name.strip():
            errors.append(
                f"audience.teams: write “{ref}” as partner-slug/Team name, "
                "e.g. atlas/Manila Billing."
            )
            continue
        partner = db.session.scalars(
            select(Partner).where(Partner.slug == slug.strip().lower())
        ).first()
        team_id = partner and db.session.scalar(
            select(Team.id).where(
                Team.partner_id == partner.id, func.lower(Team.name) == name.strip().lower()
            )
        )
        if partner is None:
            errors.append(f"audience.teams: “{ref}”: no partner has the slug “{slug.strip()}”.")
        elif team_id is None:
            errors.append(f"audience.teams: “{ref}”: {partner.name} has no team “{name.strip()}”.")
        team_ids.append(team_id)
    spec = AudienceSpec(
        partner_ids=partner_ids,
        team_ids=team_ids,
        roles=list(fields.get("roles", [])),
        languages=list(fields.get("languages", [])),
    )
    if not errors:
        errors = [_field_message(k, v) for k, v in check_audience(spec, partner_id=None).items()]
    if errors:
        raise ContentFileError(errors)
    return spec


SETTINGS = ("kind", "tags", "audience", "requires_ack", "attestation", "review_by")


def _changed_settings(document: Document, details: services.DocumentDetails) -> list[str]:
    """Names of the settings in which the file differs from the document."""
    before = (
        document.kind,
        sorted(document.tags),
        AudienceSpec.of(document.audience),
        document.requires_ack,
        document.attestation,
        document.review_by,
    )
    after = (
        details.kind,
        sorted(details.tags),
        details.audience,
        details.requires_ack,
        details.attestation,
        details.review_by,
    )
    return [name for name, a, b in zip(SETTINGS, before, after, strict=True) if a != b]


def _record(document: Document, result: SyncResult) -> None:
    record(
        Actions.CONTENT_SYNCED,
        target=document,
        summary=f"Content sync: {result.file} {result.label} (“{document.title}”)",
        file=result.file,
        outcome=result.outcome,
        version=result.version,
    )
