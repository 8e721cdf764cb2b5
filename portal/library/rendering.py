"""Markdown to safe HTML: rendered once per published version and cached on it.

Authors write Markdown with headings, lists, tables, fenced code, links and images of the
document's own attachments (``![Floor plan](attachment:floor-plan.png)``). Whatever the
source holds (raw HTML, ``javascript:`` links, event handlers), the output passes an nh3
allow-list before anyone sees it.
"""

import re
from dataclasses import dataclass
from html import escape

import markdown
import nh3
from markdown.extensions.toc import slugify_unicode

ATTACHMENT_SCHEME = "attachment:"

TAGS = {
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "blockquote",
    "ul", "ol", "li", "dl", "dt", "dd", "strong", "em", "b", "i", "code", "pre", "del",
    "sup", "sub", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "div", "span",
}  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "h1": {"id"}, "h2": {"id"}, "h3": {"id"}, "h4": {"id"}, "h5": {"id"}, "h6": {"id"},
    "th": {"align"}, "td": {"align"},
    "ol": {"start"},
    "code": {"class"},
    "div": {"class"},
}  # fmt: skip
URL_SCHEMES = {"http", "https", "mailto", "tel"}
_CODE_CLASS = re.compile(r"^language-[\w+-]{1,30}$")
_ATTACHMENT_REF = re.compile(r'(src|href)="attachment:([^"]+)"')


@dataclass
class Rendered:
    html: str
    toc_html: str  # empty when the document has fewer than two headings


def _heading_id(value: str, separator: str) -> str:
    # Prefixed so a heading such as "Main" cannot take an id the page itself uses.
    return "sec-" + (slugify_unicode(value, separator) or "part")


def _markdown() -> markdown.Markdown:
    return markdown.Markdown(
        extensions=["tables", "fenced_code", "sane_lists", "toc"],
        extension_configs={
            "tables": {"use_align_attribute": True},
            "toc": {
                "toc_depth": "2-4",
                "anchorlink": False,
                "permalink": False,
                "slugify": _heading_id,
            },
        },
        output_format="html",
    )


def render(source: str, attachment_urls: dict[str, str] | None = None) -> Rendered:
    """Render Markdown to sanitized HTML and a table of contents.

    ``attachment_urls`` maps an attachment's file name to the URL that serves it; images may
    only show those (no external images: they would let an author track readers).
    """
    attachment_urls = attachment_urls or {}
    md = _markdown()
    raw = md.convert(source or "")

    def link_attachment(match):
        name = _unescape(match.group(2))
        url = attachment_urls.get(name)
        return f'{match.group(1)}="{escape(url)}"' if url else f'{match.group(1)}=""'

    raw = _ATTACHMENT_REF.sub(link_attachment, raw)
    allowed_images = set(attachment_urls.values())

    def keep(tag, attribute, value):
        if tag == "img" and attribute == "src":
            return value if value in allowed_images else None
        if tag == "code" and attribute == "class":
            return value if _CODE_CLASS.match(value) else None
        if tag == "div" and attribute == "class":
            return value if value == "toc" else None
        if attribute == "align":
            return value if value in ("left", "right", "center") else None
        return value

    html = sanitize(raw, keep)
    toc = md.toc if len(getattr(md, "toc_tokens", [])) + _nested(md) >= 2 else ""
    return Rendered(html=html, toc_html=sanitize(toc, keep) if toc else "")


def sanitize(html: str, attribute_filter=None) -> str:
    """The allow-list every piece of author HTML goes through."""
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        attribute_filter=attribute_filter,
        strip_comments=True,
    )


def _nested(md) -> int:
    def count(tokens):
        return sum(count(t.get("children", [])) + 1 for t in tokens)

    tokens = getattr(md, "toc_tokens", [])
    return count(tokens) - len(tokens)


def _unescape(value: str) -> str:
    return (
        value.replace("&amp;", "&").replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
    )


def plain_text(source: str) -> str:
    """Markdown reduced to words, for search indexing and snippets."""
    html = markdown.markdown(source or "", extensions=["tables", "fenced_code"])
    text = nh3.clean(html, tags=set())
    return re.sub(r"\s+", " ", _unescape(text)).strip()
