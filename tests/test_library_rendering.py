"""What readers see of Markdown: sanitized HTML, contents, code, tables; diffs escape the source."""

import pytest

from portal.library.diffing import diff_text, title_change, word_diff
from portal.library.rendering import render
from tests.helpers import login

HOSTILE = """# Welcome

<script>alert('x')</script>
<img src="https://tracker.example/pixel.gif" onerror="alert(1)">
<a href="javascript:alert(2)" onclick="steal()">click me</a>
[also me](javascript:alert(3))
<div style="position:fixed" onmouseover="alert(4)">covered</div>
<iframe src="https://evil.example"></iframe>
"""

RICH = """# Escalations

## When to escalate

Escalate when the customer asks twice.

### Priority

| Level | Answer within |
|-------|--------------:|
| P1    | 15 minutes    |
| P2    | 4 hours       |

## Commands

```bash
ticket escalate --level P1
```
"""


@pytest.fixture
def reader(app, make_user):
    client = app.test_client()
    login(client, make_user(role="agent"))
    return client


def test_published_page_strips_scripts_handlers_and_javascript_links(reader, make_document):
    """Scripts, event handlers, styles, frames, javascript: links and outside images are removed."""
    document = make_document("Hostile", HOSTILE)
    page = reader.get(f"/library/{document.id}").get_data(as_text=True)
    article = page.split('class="doc-body"')[1].split("</article>")[0]
    forbidden = ("<script", "onerror", "onclick", "onmouseover", "javascript:", "style=", "<iframe")
    for text in (*forbidden, "tracker.example"):
        assert text not in article, text
    assert "click me" in article and "covered" in article


def test_authors_draft_view_is_sanitized_too(app, make_user, make_document):
    """A never-published draft shown to its author goes through the same allow-list."""
    document = make_document("Hostile draft", HOSTILE, publish=False)
    client = app.test_client()
    login(client, make_user(role="prm"))
    page = client.get(f"/library/{document.id}").get_data(as_text=True)
    assert "Draft - not visible to readers" in page
    article = page.split('class="doc-body"')[1].split("</article>")[0]
    assert "<script" not in article and "javascript:" not in article and "onerror" not in article


def test_contents_code_and_tables_are_rendered(reader, make_document):
    """Readers get a table of contents beside the text, highlighted code blocks and tables."""
    document = make_document("Escalations", RICH)
    page = reader.get(f"/library/{document.id}").get_data(as_text=True)
    toc = page.split('class="doc-toc"')[1].split("</nav>")[0]
    assert '<a href="#sec-when-to-escalate"' in toc and '<a href="#sec-priority"' in toc
    assert '<h2 id="sec-when-to-escalate">When to escalate</h2>' in page
    assert '<code class="language-bash">ticket escalate --level P1' in page
    assert "<table>" in page and '<td align="right">15 minutes</td>' in page


def test_a_short_document_has_no_contents(reader, make_document):
    """A text with fewer than two headings shows no table of contents."""
    document = make_document("Short", "Just one paragraph.")
    page = reader.get(f"/library/{document.id}").get_data(as_text=True)
    assert 'class="doc-toc"' not in page and "Just one paragraph." in page


def test_heading_ids_cannot_take_the_pages_own_ids():
    """A heading called 'Main' gets a prefixed id, so it cannot hijack the page's skip link."""
    rendered = render("# Main\n\n## Main\n\ntext")
    assert 'id="main"' not in rendered.html
    assert '<h1 id="sec-main">' in rendered.html and '<h2 id="sec-main_1">' in rendered.html


def test_images_show_only_the_documents_attachments():
    """An image of an attachment gets its URL; an outside image loses its source."""
    urls = {"floor plan.png": "/library/1/files/2/floor%20plan.png"}
    rendered = render("![Plan](attachment:floor plan.png) ![Pixel](https://t.example/p.gif)", urls)
    assert 'src="/library/1/files/2/floor%20plan.png"' in rendered.html
    assert "t.example" not in rendered.html


def test_word_diff_escapes_the_source_and_marks_changed_words():
    """Changed words are wrapped in <del>/<ins>; HTML in the source is shown as text."""
    old, new = word_diff("Refund up to $100 <b>now</b>", "Refund up to $150 <b>now</b>")
    assert old == "Refund up to $<del>100</del> &lt;b&gt;now&lt;/b&gt;"
    assert new == "Refund up to $<ins>150</ins> &lt;b&gt;now&lt;/b&gt;"
    old, new = word_diff("Completely different", "<script>x</script>")
    assert old == "<del>Completely different</del>"
    assert new == "<ins>&lt;script&gt;x&lt;/script&gt;</ins>"


def test_diff_folds_long_unchanged_stretches():
    """Only a few unchanged lines stay around each change; the rest fold into a counted gap."""
    old = "\n".join(f"line {n}" for n in range(20))
    new = old.replace("line 10", "line ten")
    changes = diff_text(old, new)
    kinds = [line.kind for line in changes.lines]
    assert kinds == ["gap"] + ["same"] * 3 + ["removed", "added"] + ["same"] * 3 + ["gap"]
    assert changes.lines[0].skipped == 7 and changes.lines[-1].skipped == 6
    assert (changes.added, changes.removed) == (1, 1)
    assert title_change("Refunds", "Refunds") is None
    assert not diff_text("same\ntext", "same\ntext").changed
