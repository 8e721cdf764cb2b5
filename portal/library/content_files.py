"""The format of content files: Markdown documents with YAML front matter.

:func:`read_content_file` reads one file and checks its form (encoding, YAML, fields, values)
without looking at the database; ``portal.library.sync`` applies checked files to the library.
``content/README.md`` documents the format for the people who write the files.
"""

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import frontmatter
import yaml

from portal.library import services
from portal.library.models import ChangeLevel, DocumentKind

FIELDS = (
    "title",
    "slug",
    "kind",
    "tags",
    "audience",
    "requires_ack",
    "attestation",
    "change",
    "summary",
    "review_by",
)
AUDIENCE_FIELDS = ("partners", "teams", "roles", "languages")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ContentFileError(Exception):
    """What is wrong with one file; ``messages`` are shown to the person who wrote it."""

    def __init__(self, messages: list[str] | str):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__(" ".join(self.messages))


@dataclass
class ContentFile:
    """One file's front matter and text, checked for form (not yet against the database)."""

    name: str
    title: str
    slug: str
    kind: str
    body: str
    tags: list[str] = field(default_factory=list)
    audience: dict[str, list[str]] = field(default_factory=dict)
    requires_ack: bool = False
    attestation: bool = False
    change: str = ChangeLevel.MATERIAL.value
    summary: str = ""
    review_by: date | None = None


def content_paths(folder: Path) -> list[Path]:
    """The Markdown files ``folder`` holds, by name; its README describes the format."""
    return sorted(
        (p for p in Path(folder).glob("*.md") if p.is_file() and p.name.lower() != "readme.md"),
        key=lambda p: p.name,
    )


def read_content_file(path: Path) -> ContentFile:
    """Read and check one file's front matter and text; raises ContentFileError."""
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ContentFileError(
            f"the file is not UTF-8 text (byte 0x{raw[error.start]:02x} at position "
            f"{error.start} cannot be read); save it with UTF-8 encoding."
        ) from None
    text = text.replace("\r\n", "\n")
    meta, body = _split(text)
    return _check_fields(Path(path).name, meta, body)


class _DatesAsText(yaml.SafeLoader):
    """YAML without implicit timestamps, so a bad date gets our message, not a crash."""


_DatesAsText.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _FrontMatter(frontmatter.default_handlers.YAMLHandler):
    """python-frontmatter's YAML handler, keeping what it loaded (it drops non-mappings)."""

    found = False
    loaded = None

    def load(self, fm, **kwargs):
        self.found, self.loaded = True, yaml.load(fm, Loader=_DatesAsText)  # a SafeLoader
        return self.loaded


def _split(text: str) -> tuple[dict, str]:
    stripped = text.lstrip()
    if not stripped.startswith("---"):
        raise ContentFileError(
            "the file has no front matter: start it with a line ---, then the fields "
            "(title: …, slug: …, kind: …), then another line ---."
        )
    handler = _FrontMatter()
    offset = text[: len(text) - len(stripped)].count("\n")
    try:
        _meta, body = frontmatter.parse(stripped, handler=handler)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1 + offset})" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ContentFileError(f"the front matter is not valid YAML: {problem}{where}.") from None
    if not handler.found:
        raise ContentFileError("the front matter has no closing line ---.")
    if not isinstance(handler.loaded, dict):
        raise ContentFileError(
            "the front matter must be fields, one per line (name: value), e.g. title: Refunds."
        )
    return handler.loaded, body


def _check_fields(name: str, meta: dict, body: str) -> ContentFile:
    errors = []
    if unknown := [str(k) for k in meta if k not in FIELDS]:
        errors.append(f"unknown field(s) {', '.join(unknown)}; the fields are {', '.join(FIELDS)}.")

    def text(key, required=False, limit=None):
        value = meta.get(key)
        if value is None or value == "":
            if required:
                errors.append(f"{key}: missing; every file needs a {key}.")
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            errors.append(f"{key}: write it as plain text.")
            return ""
        value = str(value).strip()
        if limit and len(value) > limit:
            errors.append(f"{key}: at most {limit} characters.")
        return value

    def flag(key):
        value = meta.get(key, False)
        if not isinstance(value, bool):
            errors.append(f"{key}: write true or false, not “{value}”.")
            return False
        return value

    title = text("title", required=True, limit=200)
    slug = text("slug", required=True).lower()
    if slug and not services.SLUG_RE.match(slug):
        errors.append(
            f"slug: “{slug}” is not a slug; use 1-80 lower-case letters, digits and hyphens, "
            "starting and ending with a letter or digit (e.g. refund-requests)."
        )
    kind = text("kind", required=True)
    if kind and kind not in set(DocumentKind):
        kinds = ", ".join(k.value for k in DocumentKind)
        errors.append(f"kind: “{kind}” is not a kind of document; use one of {kinds}.")
    change = text("change") or ChangeLevel.MATERIAL.value
    if change not in set(ChangeLevel):
        errors.append(f"change: “{change}” is not a change level; use material or minor.")
    summary = text("summary", limit=300)
    requires_ack, attestation = flag("requires_ack"), flag("attestation")
    if attestation and not requires_ack:
        errors.append("attestation: a typed-name attestation needs requires_ack: true.")
    if not body.strip():
        errors.append("the file has no text after the front matter.")
    elif len(body) > services.MAX_BODY:
        errors.append(f"the text is longer than {services.MAX_BODY:,} characters; split it.")
    tags = _names(meta.get("tags"), "tags", errors, lower=True)
    if bad := [t for t in tags if not services.TAG_RE.match(t)]:
        errors.append(
            f"tags: “{bad[0]}” is not a tag; use up to 40 letters, digits, spaces, - or _."
        )
    if len(tags) > services.MAX_TAGS:
        errors.append(f"tags: use at most {services.MAX_TAGS} tags.")
    result = ContentFile(
        name=name,
        title=title,
        slug=slug,
        kind=kind,
        body=body,
        tags=tags,
        audience=_audience_fields(meta.get("audience"), errors),
        requires_ack=requires_ack,
        attestation=attestation,
        change=change,
        summary=summary,
        review_by=_date(meta.get("review_by"), "review_by", errors),
    )
    if errors:
        raise ContentFileError(errors)
    return result


def _names(value, key: str, errors: list[str], lower=False) -> list[str]:
    """A list of short texts; a single text counts as a list of one."""
    if value is None:
        return []
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not all(
        isinstance(v, str | int | float) and not isinstance(v, bool) for v in value
    ):
        errors.append(f"{key}: write a list, e.g. [first, second].")
        return []
    names = []
    for v in value:
        v = str(v).strip().lower() if lower else str(v).strip()
        if v and v not in names:
            names.append(v)
    return names


def _audience_fields(value, errors: list[str]) -> dict[str, list[str]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append(f"audience: write its fields ({', '.join(AUDIENCE_FIELDS)}) one per line.")
        return {}
    if unknown := [str(k) for k in value if k not in AUDIENCE_FIELDS]:
        errors.append(
            f"audience: unknown field(s) {', '.join(unknown)}; use {', '.join(AUDIENCE_FIELDS)}."
        )
    return {k: _names(value.get(k), f"audience.{k}", errors) for k in AUDIENCE_FIELDS}


def _date(value, key: str, errors: list[str]) -> date | None:
    if value is None or value == "":
        return None
    try:
        if not DATE_RE.match(str(value)):
            raise ValueError
        return date.fromisoformat(str(value))
    except ValueError:
        errors.append(f"{key}: “{value}” is not a date; write it as YYYY-MM-DD, e.g. 2027-06-01.")
        return None
