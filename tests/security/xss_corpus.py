"""A corpus of XSS payloads and the check that a page rendered them inertly.

Reuse it for every user-writable field that is rendered (names, course and quiz text,
imported CSV names ...)::

    from tests.security.xss_corpus import PAYLOADS, inert_problems
    ...
    problems = inert_problems(response.get_data(as_text=True), PAYLOADS)
    assert not problems

Every payload carries :data:`MARKER` inside its active part, so that the check can
recognise injected markup without knowing the page: the marker must never end up in a
tag name, an attribute name, an event handler, a URL attribute, a style, or inside
``<script>``/``<style>`` — only in text or in a harmless attribute value (an input's
``value``, for instance), escaped.
"""

from __future__ import annotations

from html.parser import HTMLParser

MARKER = "xss-probe"

PAYLOADS: list[str] = [
    # Script tags
    "<script>alert('xss-probe')</script>",
    "<ScRiPt>alert('xss-probe')</sCrIpT>",
    '<script src="/account/login?xss-probe"></script>',
    "\"><script>alert('xss-probe')</script>",
    "'><script>alert('xss-probe')</script>",
    "</title><script>alert('xss-probe')</script>",
    "</textarea><script>alert('xss-probe')</script>",
    "<scr<script>ipt>alert('xss-probe')</scr</script>ipt>",
    "<script>/*</script><script>*/alert('xss-probe')</script>",
    # Event handlers
    "<img src=x onerror=alert('xss-probe')>",
    "<body onload=alert('xss-probe')>",
    '" onmouseover="alert(\'xss-probe\')" x="',
    "' onfocus='alert(`xss-probe`)' autofocus x='",
    "<div onpointerenter=alert('xss-probe')>Mario</div>",
    "<details open ontoggle=alert('xss-probe')>",
    "<input autofocus onfocus=alert('xss-probe')>",
    "<video><source onerror=\"alert('xss-probe')\"></video>",
    # javascript: URLs
    "<a href=\"javascript:alert('xss-probe')\">Mario Rossi</a>",
    "javascript:alert('xss-probe')",
    "<a href=\"jav&#x09;ascript:alert('xss-probe')\">x</a>",
    "<a href=\" &#14; javascript:alert('xss-probe')\">x</a>",
    "<form action=\"javascript:alert('xss-probe')\"><button>Invia</button></form>",
    "<button formaction=\"javascript:alert('xss-probe')\">x</button>",
    # SVG and MathML
    "<svg onload=alert('xss-probe')>",
    "<svg><script>alert('xss-probe')</script></svg>",
    "<svg><a xlink:href=\"javascript:alert('xss-probe')\"><text>x</text></a></svg>",
    "<svg><animate onbegin=alert('xss-probe') attributeName=x dur=1s>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('xss-probe')>",
    # Frames and embedded objects
    "<iframe src=\"javascript:alert('xss-probe')\"></iframe>",
    "<iframe srcdoc=\"&lt;script&gt;alert('xss-probe')&lt;/script&gt;\"></iframe>",
    "<object data=\"javascript:alert('xss-probe')\"></object>",
    "<embed src=\"data:text/html,<script>alert('xss-probe')</script>\">",
    # Style
    "<style>@import 'https://evil.example/xss-probe.css';</style>",
    "<div style=\"background:url(javascript:alert('xss-probe'))\">x</div>",
    '<link rel=stylesheet href="https://evil.example/xss-probe.css">',
    # Data URIs
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">xss-probe</a>',
    "data:text/html,<script>alert('xss-probe')</script>",
    '<img src="data:image/svg+xml,<svg onload=alert(1)>" alt="xss-probe">',
    # Markdown link tricks
    "[clicca qui](javascript:alert('xss-probe'))",
    "[x](javascript&#58;alert('xss-probe'))",
    "[x](<javascript:alert('xss-probe')>)",
    "![foto](x\" onerror=\"alert('xss-probe'))",
    "<javascript:alert('xss-probe')>",
    "[a](data:text/html;base64,PHNjcmlwdD4=) xss-probe",
    # Other contexts
    '<meta http-equiv="refresh" content="0;url=https://evil.example/xss-probe">',
    '<base href="https://evil.example/xss-probe/">',
    "<noscript><p title=\"</noscript><img src=x onerror=alert('xss-probe')>\">",
    "&lt;script&gt;alert('xss-probe')&lt;/script&gt;",
    "<!--<img src=\"--><img src=x onerror=alert('xss-probe')//\">",
    "{{ 7*7 }}xss-probe",
    "${7*7}xss-probe #{7*7}",
]

# Attributes whose value is only ever data (escaped text), never markup, URL or code.
DATA_ATTRIBUTES = {"value", "title", "alt", "aria-label", "placeholder", "id"}
RAW_TEXT_TAGS = {"script", "style"}
SPECIAL = set("<>\"'&")


class _Finder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._raw: list[str] = []

    def _tag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        source = self.get_starttag_text() or tag
        if MARKER in tag:
            self.problems.append(f"injected tag: {source}")
        for name, value in attrs:
            value = value or ""
            if MARKER in name:
                self.problems.append(f"injected attribute {name!r}: {source}")
            elif MARKER in value and name not in DATA_ATTRIBUTES:
                self.problems.append(f"payload in {name!r} of <{tag}>: {source}")
            elif name.startswith("on") or name in ("style", "srcdoc", "http-equiv"):
                self.problems.append(f"{name!r} attribute on <{tag}>: {source}")
            elif name in ("href", "src", "action", "formaction", "data", "xlink:href"):
                scheme = "".join(value.split()).lower()
                if scheme.startswith(("javascript:", "vbscript:", "data:text")):
                    self.problems.append(f"dangerous URL in {name!r}: {source}")
        if tag in RAW_TEXT_TAGS:
            self._raw.append(tag)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs)
        if tag in RAW_TEXT_TAGS:
            self._raw.pop()

    def handle_endtag(self, tag: str) -> None:
        if self._raw and self._raw[-1] == tag:
            self._raw.pop()

    def handle_data(self, data: str) -> None:
        if self._raw and MARKER in data:
            self.problems.append(f"payload inside <{self._raw[-1]}>: {data[:120]!r}")

    def handle_comment(self, data: str) -> None:
        if MARKER in data:
            self.problems.append(f"payload inside an HTML comment: {data[:120]!r}")


def inert_problems(html: str, payloads: list[str] | None = None) -> list[str]:
    """Why ``html`` is not a safe rendering of ``payloads`` (empty list: it is).

    Checks that no payload containing HTML-special characters appears verbatim
    (unescaped), that no template expression was evaluated, and that the marker never
    reaches markup, URLs, styles or scripts.
    """
    problems = []
    for payload in PAYLOADS if payloads is None else payloads:
        collapsed = " ".join(payload.split())  # as names are stored
        for form in {payload, collapsed}:
            if SPECIAL & set(form) and form in html:
                problems.append(f"unescaped payload: {form!r}")
    if "49" + MARKER in html or "49" + "xss-probe #49" in html:
        problems.append("template expression evaluated: {{ 7*7 }}")
    finder = _Finder()
    finder.feed(html)
    finder.close()
    if finder._raw:
        problems.append(f"<{finder._raw[-1]}> left open: the rest of the page is raw text")
    return problems + finder.problems
