"""Stored-XSS attack strings, and the check that none of them ran or reached the page as markup.

Every payload that ran would set ``window.__xss`` or open a dialog. ``SHORT`` ones fit a
person's or team's name (120 characters) and go into every one-line field; ``MARKDOWN`` ones
are link tricks for Markdown text, which also gets all of ``SHORT`` as raw HTML. ``SSTI``
would render as ``ssti49`` if user text were ever treated as a Jinja template.
"""

SSTI = "ssti{{7*7}}${7*7}"
SSTI_RENDERED = "ssti49"
SEARCH_WORD = "xsscorpus"  # in every text with a body, so one search finds them all
MARKDOWN_END = f"The {SEARCH_WORD} text ends here."  # shown only if the whole text rendered

SHORT = (
    "<script>window.__xss=1</script>",
    "<img src=x onerror=window.__xss=1>",
    "<svg onload=window.__xss=1>",
    "<svg><animate onbegin=window.__xss=1 attributeName=x dur=1s>",
    '"><script>window.__xss=1</script>',
    "'><img src=x onerror=alert(1)>",
    '" autofocus onfocus="window.__xss=1" x="',
    '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
    '<a href="javascript:window.__xss=1">js link</a>',
    '<a href=" javascript:window.__xss=1">spaced js link</a>',
    '<a href="jav&#x61;script:window.__xss=1">entity js link</a>',
    '<a href="data:text/html,<script>alert(1)</script>">data link</a>',
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=1>",
    '<div style="background:url(javascript:window.__xss=1)">styled</div>',
    "<style>*{background:url(javascript:window.__xss=1)}</style>",
    "<details open ontoggle=window.__xss=1>",
    "<input autofocus onfocus=window.__xss=1>",
    "<object data=javascript:window.__xss=1>",
    "<form><button formaction=javascript:window.__xss=1>go</button></form>",
    "</title><script>window.__xss=1</script>",
    "</textarea><script>window.__xss=1</script>",
    SSTI,
)

MARKDOWN = (
    "[inline link](javascript:window.__xss=1)",
    "[spaced link]( javascript:window.__xss=1)",
    "[entity link](jav&#x61;script:window.__xss=1)",
    "[colon entity link](javascript&#58;window.__xss=1)",
    "[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[reference link][evil]\n\n[evil]: javascript:window.__xss=1",
    "<javascript:window.__xss=1>",
    '![image](x" onerror="window.__xss=1)',
    '[titled link](https://example.com "x\\" onmouseover=\\"window.__xss=1")',
    "<a href='javascript:window.__xss=1'>raw link</a>",
)


def _swallows_the_rest(payload: str) -> bool:
    """An unclosed <style> opens a raw HTML block that runs to the end of the Markdown."""
    return "<style" in payload and "</style>" not in payload


def markdown_text(heading: str) -> str:
    """A Markdown text carrying every payload, each in its own paragraph, and ``MARKDOWN_END``
    after all but the one that would swallow what follows it."""
    swallowing = [p for p in SHORT if _swallows_the_rest(p)]
    parts = [f"# {heading}", f"The {SEARCH_WORD} text: script onerror onload javascript."]
    parts += [*MARKDOWN, *(p for p in SHORT if p not in swallowing), MARKDOWN_END, *swallowing]
    return "\n\n".join(parts)


def one_line(index: int, prefix: str = "") -> str:
    """The ``index``-th short payload (wrapping round), after an optional prefix."""
    return f"{prefix}{SHORT[index % len(SHORT)]}"


# Run in the page: what a payload would have left in the DOM if it got through unescaped.
FIND_INJECTED = """() => {
  const found = [];
  const urlAttributes = ["href", "src", "action", "formaction", "data", "xlink:href", "srcdoc"];
  const dangerous = /^(javascript|data|vbscript):/;
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      const value = attr.value.replace(/[\\s\\u0000-\\u001f]/g, "").toLowerCase();
      if (name.startsWith("on")) found.push(`${el.tagName} ${name}=${attr.value}`);
      if (name === "srcdoc") found.push(`${el.tagName} srcdoc`);
      if (urlAttributes.includes(name) && dangerous.test(value)) {
        found.push(`${el.tagName} ${name}=${attr.value}`);
      }
      if (name === "style" && /javascript:|expression\\(/.test(value)) {
        found.push(`${el.tagName} style=${attr.value}`);
      }
    }
  }
  for (const script of document.scripts) {
    if (!script.src.startsWith(location.origin + "/static/")) {
      found.push(`SCRIPT ${script.outerHTML.slice(0, 80)}`);
    }
  }
  for (const el of document.querySelectorAll("iframe, object, embed, body style, math, base")) {
    found.push(`${el.tagName} element`);
  }
  return found;
}"""
