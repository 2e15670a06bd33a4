"""Markdown → sanitised HTML: the only way user-written Markdown reaches a page.

Python-Markdown does the formatting; nh3 (an allow-list sanitiser) then removes
anything that could run script, load remote content or escape its container.
Local images are rewritten to the version's asset URL.
"""

from __future__ import annotations

import re
from functools import partial

import markdown
import nh3

EXTENSIONS = [
    "tables",
    "fenced_code",
    "footnotes",
    "admonition",
    "toc",
    "attr_list",
    "def_list",
    "abbr",
    "sane_lists",
]
ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "code",
    "dd",
    "del",
    "details",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"id", "class", "title", "lang", "dir"},
    "a": {"href"},
    "abbr": {"title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "ol": {"start"},
}
LINK_SCHEMES = {"http", "https", "mailto", "tel"}
_SCHEME_RE = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9+.-]*):")
_CLASS_RE = re.compile(r"^[A-Za-z0-9_ -]{0,100}$")


def _filter_attribute(asset_base: str, tag: str, attribute: str, value: str) -> str | None:
    if attribute == "class" and not _CLASS_RE.match(value):
        return None
    if attribute == "id":
        return value if re.match(r"^[A-Za-z0-9_:.-]{1,100}$", value) else None
    if tag == "img" and attribute == "src":
        # Images only from the course's own files: no remote or data: images.
        if _SCHEME_RE.match(value) or value.startswith(("/", "\\")) or ".." in value:
            return None
        return asset_base + value.removeprefix("./")
    if tag == "a" and attribute == "href":
        scheme = _SCHEME_RE.match(value)
        if scheme:
            return value if scheme.group(1).lower() in LINK_SCHEMES else None
        if value.startswith("#") or value.startswith("//"):
            return value if value.startswith("#") else None
        if ".." in value or value.startswith(("/", "\\")):
            return None
        return asset_base + value.removeprefix("./")
    return value


def sanitise(html: str, asset_base: str = "") -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=LINK_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
        attribute_filter=partial(_filter_attribute, asset_base),
    )


def render_markdown(text: str, asset_base: str = "") -> str:
    """Render trusted-format, untrusted-content Markdown to safe HTML."""
    md = markdown.Markdown(
        extensions=EXTENSIONS,
        extension_configs={
            "toc": {"permalink": False, "baselevel": 2},
            "footnotes": {"BACKLINK_TEXT": "↩"},
        },
        output_format="html",
    )
    return sanitise(md.convert(text), asset_base)


def render_inline(text: str) -> str:
    """One paragraph (summaries): the same pipeline, unwrapped from its <p>."""
    html = render_markdown(text)
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        return html[3:-4]
    return html
