"""A readable diff between two versions' Markdown source.

Line by line (as ``difflib`` sees it), with the changed words marked inside changed lines:
``<del>`` in the old line, ``<ins>`` in the new one. Every piece of source text is escaped;
the only markup in the output is the portal's own ``<ins>``/``<del>``.
"""

import difflib
import re
from dataclasses import dataclass, field

from markupsafe import Markup, escape

CONTEXT_LINES = 3
# Below this share of equal words, two paired lines are shown as replaced whole.
SIMILAR_ENOUGH = 0.4
_TOKENS = re.compile(r"\s+|\w+|[^\w\s]")


@dataclass
class DiffLine:
    kind: str  # same | removed | added | gap
    old_number: int | None = None
    new_number: int | None = None
    html: Markup = Markup("")
    skipped: int = 0  # for a gap: how many unchanged lines it stands for


@dataclass
class TextDiff:
    lines: list[DiffLine] = field(default_factory=list)
    added: int = 0
    removed: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


@dataclass
class TitleChange:
    old_html: Markup
    new_html: Markup


def _tokens(text: str) -> list[str]:
    return _TOKENS.findall(text)


def _mark(tokens: list[str], tag: str) -> Markup:
    text = "".join(tokens)
    if not text:
        return Markup("")
    return Markup(f"<{tag}>{escape(text)}</{tag}>")


def word_diff(old: str, new: str) -> tuple[Markup, Markup]:
    """``old`` and ``new`` as escaped HTML with removed words in <del> and added in <ins>.

    Lines with little in common are marked whole: word by word they would read as noise.
    """
    a, b = _tokens(old), _tokens(new)
    old_parts, new_parts = [], []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.ratio() < SIMILAR_ENOUGH:
        return _mark(a, "del"), _mark(b, "ins")
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            old_parts.append(escape("".join(a[i1:i2])))
            new_parts.append(escape("".join(b[j1:j2])))
            continue
        if i2 > i1:
            old_parts.append(_mark(a[i1:i2], "del"))
        if j2 > j1:
            new_parts.append(_mark(b[j1:j2], "ins"))
    return Markup("").join(old_parts), Markup("").join(new_parts)


def _lines(text: str) -> list[str]:
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")


def diff_text(old: str, new: str, context: int = CONTEXT_LINES) -> TextDiff:
    """Changed lines of ``new`` against ``old``, with ``context`` unchanged lines around them."""
    a, b = _lines(old), _lines(new)
    result = TextDiff()
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    opcodes = matcher.get_opcodes()
    for index, (op, i1, i2, j1, j2) in enumerate(opcodes):
        if op == "equal":
            _add_unchanged(result, a, i1, i2, j1, context, index, len(opcodes))
            continue
        removed = [(n, a[n]) for n in range(i1, i2)]
        added = [(n, b[n]) for n in range(j1, j2)]
        pairs = min(len(removed), len(added)) if op == "replace" else 0
        old_html, new_html = {}, {}
        for k in range(pairs):
            old_html[k], new_html[k] = word_diff(removed[k][1], added[k][1])
        for k, (n, line) in enumerate(removed):
            html = old_html.get(k, _mark([line], "del") if line else Markup(""))
            result.lines.append(DiffLine("removed", old_number=n + 1, html=html))
        for k, (n, line) in enumerate(added):
            html = new_html.get(k, _mark([line], "ins") if line else Markup(""))
            result.lines.append(DiffLine("added", new_number=n + 1, html=html))
        result.removed += len(removed)
        result.added += len(added)
    return result


def _add_unchanged(result, a, i1, i2, j1, context, index, count):
    """Unchanged lines: keep ``context`` next to changes, fold the rest into a gap."""
    numbers = list(range(i1, i2))
    head = numbers[:context] if index > 0 else []
    tail = numbers[-context:] if index < count - 1 else []
    if len(head) + len(tail) >= len(numbers):
        shown, skipped_at = numbers, None
    else:
        shown, skipped_at = head + tail, len(head)
    offset = j1 - i1
    for position, n in enumerate(shown):
        if position == skipped_at:
            result.lines.append(DiffLine("gap", skipped=len(numbers) - len(shown)))
        result.lines.append(
            DiffLine("same", old_number=n + 1, new_number=n + offset + 1, html=escape(a[n]))
        )
    if skipped_at is not None and skipped_at == len(shown):
        result.lines.append(DiffLine("gap", skipped=len(numbers) - len(shown)))


def title_change(old: str, new: str) -> TitleChange | None:
    """The title's change with words marked, or None when it stayed the same."""
    if old == new:
        return None
    old_html, new_html = word_diff(old, new)
    return TitleChange(old_html, new_html)
