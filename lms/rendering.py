"""Markdown → sanitised HTML: the only way user-written Markdown reaches a page.

Python-Markdown does the formatting; nh3 (an allow-list sanitiser) then removes
anything that could run script, load remote content or escape its container.
Local images are rewritten to the version's asset URL. Text beyond the bounds of
``lms.markdown_limits`` never reaches either (docs/limits.md, "Markdown").
"""

from __future__ import annotations

import html
import re
from functools import partial
from typing import Any

import markdown
import nh3
from markdown.extensions.abbr import AbbrExtension, AbbrTreeprocessor

from lms import markdown_limits

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


class _LinearAbbrTreeprocessor(AbbrTreeprocessor):
    """Python-Markdown's abbreviations, without its ``list(parent).index(el)`` per element.

    That look-up made a file that defines one abbreviation quadratic in the number of
    elements side by side (paragraphs of the file, items of a list, spans of a paragraph;
    figures in docs/performance.md). Children are visited last to first,
    as upstream does, so the index of each is known without searching: what a child
    inserts after itself does not move the children before it.
    """

    def iter_element(self, el: Any, parent: Any = None, index: int = 0) -> None:
        children = list(el)
        for position in range(len(children) - 1, -1, -1):
            self.iter_element(children[position], el, position)
        if (text := el.text) and not isinstance(text, markdown.util.AtomicString):
            for m in reversed(list(self.RE.finditer(text))):
                if self.abbrs[m.group(0)]:
                    abbr = self.create_element(self.abbrs[m.group(0)], m.group(0), text[m.end() :])
                    el.insert(0, abbr)
                    text = text[: m.start()]
            el.text = text
        if parent is not None and el.tail:
            tail = el.tail
            if not isinstance(tail, markdown.util.AtomicString):
                for m in reversed(list(self.RE.finditer(tail))):
                    if self.abbrs[m.group(0)]:
                        abbr = self.create_element(
                            self.abbrs[m.group(0)], m.group(0), tail[m.end() :]
                        )
                        parent.insert(index + 1, abbr)
                        tail = tail[: m.start()]
                el.tail = tail


class _Abbreviations(AbbrExtension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        super().extendMarkdown(md)
        md.treeprocessors.register(_LinearAbbrTreeprocessor(md, self.abbrs), "abbr", 7)


def render_markdown(text: str, asset_base: str = "") -> str:
    """Render trusted-format, untrusted-content Markdown to safe HTML.

    Text beyond the bounds of ``lms.markdown_limits`` is shown as it was written, escaped,
    instead: uploads, the editors and the preview refuse it before it comes here, so only
    something stored before the bounds (a quiz question) or outside them could.
    """
    if markdown_limits.first_excess(text) is not None:
        return f'<pre class="markdown-source">{html.escape(text)}</pre>'
    md = markdown.Markdown(
        extensions=[name for name in EXTENSIONS if name != "abbr"] + [_Abbreviations()],
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
