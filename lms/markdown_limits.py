"""Bounds on the Markdown that reaches Python-Markdown and nh3 (issue 16).

Some shapes make them quadratic (brackets, link targets, tags or fences left open; very
long or very many blocks; footnotes; deeply nested HTML) or make Python-Markdown recurse
past Python's limit. :func:`check` measures them in one linear pass before anything is
rendered and returns, for each bound exceeded, the first line where it is; fenced code
blocks are left out exactly as Python-Markdown finds them (its own pattern). Each bound,
what it stops and the measurements: docs/limits.md, "Markdown".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from markdown.extensions.attr_list import get_attrs_and_remainder
from markdown.extensions.fenced_code import FencedBlockPreprocessor

#: Levels of quotes ``>``, list items and indentation (4 spaces) at the start of a line.
MAX_NESTING = 20
#: A block: lines with no empty line between them (a paragraph, a list, a table).
MAX_BLOCK_CHARS = 50_000
MAX_BLOCK_LINES = 400
#: Blocks in a file: Python-Markdown takes each off the front of a list of all of them.
MAX_BLOCKS = 10_000
#: ``[`` open at the same time in one block (nested or never closed); link targets ``](``
#: not closed before the next one.
MAX_OPEN_BRACKETS = 10
#: HTML tag openings (``<a``, ``</a``, ``<?``, ``<!``) not closed by ``>`` before the next one.
MAX_UNCLOSED_TAGS = 20
MAX_TAG_CHARS = 10_000
MAX_HTML_DEPTH = 100
#: Lines opening a fence (```` ``` ````, ``~~~``) that no later line closes.
MAX_UNCLOSED_FENCES = 20
MAX_FENCED_BLOCKS = 500
#: ``[^`` (footnote references and definitions).
MAX_FOOTNOTES = 1000


@dataclass(frozen=True)
class Excess:
    """A bound exceeded at ``line`` (1-based, in the text given to :func:`check`)."""

    line: int
    message: str


_FENCE_LINE = re.compile(r"^(`{3,}|~{3,})(.*)$", re.MULTILINE)
_FENCED_BLOCK = FencedBlockPreprocessor.FENCED_BLOCK_RE
_BLOCK = re.compile(r"[^\n]+(?:\n[^\n]+)*")
_NESTED_LINE = re.compile(rf"^[ >*+\-0-9.)!:]{{{MAX_NESTING + 1},}}", re.MULTILINE)
_PREFIX = re.compile(
    r"(?:[ ]*+(?:>|[*+-](?=[ ]|$)|\d{1,9}[.)](?=[ ]|$)|!!!(?=[ ])|:(?=[ ])))*+[ ]*+"
)
_MARKER = re.compile(r">|[*+-](?=[ ]|$)|\d{1,9}[.)](?=[ ]|$)|!!!(?=[ ])|:(?=[ ])")
_RULE = re.compile(r"[ ]{0,3}([-*_])(?:[ ]*\1){2,}[ ]*")
_SQUARE = re.compile(r"[\[\]]")
_TARGET_OPEN = re.compile(r"\]\(")
_TARGET_STOP = re.compile(r"[()\"']")
_TITLE_END = {quote: re.compile(quote + r"[ ]*\)") for quote in "\"'"}
_MARKUP = re.compile(r"<[A-Za-z/!?]")
_TAG_STOP = re.compile(r"[>'\"]")
_CDATA_END = re.compile(r"\]\s*\]\s*>")
_TAG_NAME = re.compile(r"</?([A-Za-z][A-Za-z0-9-]*)")
_VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)
_CLOSED_BY_ITSELF = frozenset(["p", "li", "dt", "dd", "td", "th", "tr", "option"])


def normalise(text: str) -> str:
    """The text as Python-Markdown's first preprocessor leaves it (same lines)."""
    text = text.replace("\x02", "").replace("\x03", "")
    text = text.replace("\r\n", "\n").replace("\r", "\n").expandtabs(4)
    return re.sub(r"(?<=\n) +\n", "\n", text)


def check(text: str) -> list[Excess]:
    """The bounds ``text`` exceeds, each at its first line; empty if it may be rendered."""
    text = normalise(text)
    excess: list[Excess] = []
    fences = _fences(text, excess)
    if fences is None:
        return excess
    prose = _blank_out(text, fences)
    _check_nesting(prose, excess)
    _check_blocks(prose, excess)
    _check_html(prose, excess)
    footnotes = prose.count("[^")
    if footnotes > MAX_FOOTNOTES:
        position = _nth(prose, "[^", MAX_FOOTNOTES + 1)
        excess.append(
            Excess(
                _line(prose, position),
                _(
                    "troppe note ('[^'): %(n)d (al massimo %(max)d per file)",
                    n=footnotes,
                    max=MAX_FOOTNOTES,
                ),
            )
        )
    return sorted(excess, key=lambda e: e.line)


def first_excess(text: str) -> Excess | None:
    found = check(text)
    return found[0] if found else None


# -- fenced code -------------------------------------------------------------------------


def _fences(text: str, excess: list[Excess]) -> list[tuple[int, int]] | None:
    """Spans of the fenced code blocks Python-Markdown takes out, or None if refused.

    An opening line with no closing line after it makes Python-Markdown's pattern scan to
    the end of the text: those are counted first (with their ``hl_lines="…"``, whose
    quote may scan as far), so that running the pattern below is linear.
    """
    lines = [(m.start(), m.group(1), m.group(2)) for m in _FENCE_LINE.finditer(text)]
    if not lines:
        return []
    last_closer: dict[str, int] = {}
    for start, fence, rest in lines:
        if not rest.strip(" "):
            last_closer[fence] = start
    costly = 0
    for start, fence, rest in lines:
        if last_closer.get(fence, -1) <= start or "hl_lines" in rest:
            costly += 1
            if costly > MAX_UNCLOSED_FENCES:
                excess.append(
                    Excess(
                        _line(text, start),
                        _(
                            "troppi blocchi di codice aperti con ``` o ~~~ e mai chiusi "
                            "(al massimo %(max)d per file): chiudi ogni blocco con una riga "
                            "uguale a quella che lo apre",
                            max=MAX_UNCLOSED_FENCES,
                        ),
                    )
                )
                return None
    spans: list[tuple[int, int]] = []
    index = 0
    while match := _FENCED_BLOCK.search(text, index):
        if match.group("attrs"):
            _attrs, remainder = get_attrs_and_remainder(match.group("attrs"))
            if remainder:  # Python-Markdown's own rule: not a fenced block
                index = match.end("attrs")
                continue
        spans.append((match.start(), match.end()))
        if len(spans) > MAX_FENCED_BLOCKS:
            excess.append(
                Excess(
                    _line(text, match.start()),
                    _(
                        "troppi blocchi di codice (``` o ~~~): al massimo %(max)d per file",
                        max=MAX_FENCED_BLOCKS,
                    ),
                )
            )
            return None
        index = match.end()
    return spans


def _blank_out(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each span made empty lines (Python-Markdown sets them apart as a block)."""
    if not spans:
        return text
    parts, last = [], 0
    for start, end in spans:
        parts += [text[last:start], "\n" * text.count("\n", start, end)]
        last = end
    parts.append(text[last:])
    return "".join(parts)


# -- nesting and blocks --------------------------------------------------------------------


def _check_nesting(prose: str, excess: list[Excess]) -> None:
    # A line nested deeper than the bound has at least that many prefix characters.
    for candidate in _NESTED_LINE.finditer(prose):
        line_end = prose.find("\n", candidate.start())
        line = prose[candidate.start() : line_end if line_end >= 0 else len(prose)]
        if _RULE.fullmatch(line):
            continue
        prefix = _PREFIX.match(line).group()
        depth = len(_MARKER.findall(prefix)) + prefix.count(" ") // 4
        if depth > MAX_NESTING:
            excess.append(
                Excess(
                    _line(prose, candidate.start()),
                    _(
                        "troppi livelli annidati (citazioni '>', elenchi, rientri): "
                        "%(n)d, al massimo %(max)d",
                        n=depth,
                        max=MAX_NESTING,
                    ),
                )
            )
            return


def _check_blocks(prose: str, excess: list[Excess]) -> None:
    long_block = brackets = False
    for count, block in enumerate(_BLOCK.finditer(prose), start=1):
        if count > MAX_BLOCKS:
            excess.append(
                Excess(
                    _line(prose, block.start()),
                    _(
                        "troppi paragrafi separati da righe vuote: al massimo %(max)d per "
                        "file; dividi il testo in più moduli",
                        max=MAX_BLOCKS,
                    ),
                )
            )
            return
        text = block.group()
        lines = text.count("\n") + 1
        if not long_block and (len(text) > MAX_BLOCK_CHARS or lines > MAX_BLOCK_LINES):
            long_block = True
            excess.append(
                Excess(
                    _line(prose, block.start()),
                    _(
                        "paragrafo troppo lungo (righe: %(lines)d, caratteri: %(chars)d): al "
                        "massimo %(max_lines)d righe e %(max_chars)d caratteri senza una riga "
                        "vuota; separa i paragrafi con una riga vuota",
                        lines=lines,
                        chars=len(text),
                        max_lines=MAX_BLOCK_LINES,
                        max_chars=MAX_BLOCK_CHARS,
                    ),
                )
            )
        if not brackets:
            found = _too_many_open(text)
            if found is not None:
                brackets = True
                position, message = found
                excess.append(Excess(_line(prose, block.start() + position), message))


def _too_many_open(text: str) -> tuple[int, str] | None:
    """Where brackets or link targets of one block would make the renderer rescan it.

    Python-Markdown scans from each ``[`` to its match, or to the end of the paragraph: the
    scans add up to at most (brackets open at once) × (length of the paragraph). From each
    ``](`` it scans the link target to the ``)`` that closes it (once a quote has started a
    title: a ``)`` right after the same quote), or to the end: a target not closed before
    the next ``](`` counts as open, and the others cover separate stretches of the text.
    """
    if text.count("[") > MAX_OPEN_BRACKETS:
        depth = 0
        for match in _SQUARE.finditer(text):
            if match.group() == "[":
                depth += 1
                if depth > MAX_OPEN_BRACKETS:
                    return match.start(), _(
                        "troppe parentesi '[' aperte insieme (annidate o non chiuse) nello "
                        "stesso paragrafo: al massimo %(max)d",
                        max=MAX_OPEN_BRACKETS,
                    )
            elif depth:
                depth -= 1
    targets = [m.start() for m in _TARGET_OPEN.finditer(text)]
    if len(targets) <= MAX_OPEN_BRACKETS:
        return None
    open_targets = 0
    for index, start in enumerate(targets):
        window = targets[index + 1] if index + 1 < len(targets) else len(text)
        if not _target_closes(text, start + 2, window):
            open_targets += 1
            if open_targets > MAX_OPEN_BRACKETS:
                return start, _(
                    "troppi link aperti con '](' e non chiusi da ')' nello stesso "
                    "paragrafo: al massimo %(max)d",
                    max=MAX_OPEN_BRACKETS,
                )
    return None


def _target_closes(text: str, start: int, end: int) -> bool:
    """Whether Python-Markdown's scan of a link target from ``start`` stops before ``end``."""
    depth = 1
    position = start
    while stop := _TARGET_STOP.search(text, position, end):
        char = stop.group()
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return True
        else:  # a title: the scan ends at a ")" right after this quote comes again
            return _TITLE_END[char].search(text, stop.end(), end) is not None
        position = stop.end()
    return False


# -- HTML ------------------------------------------------------------------------------------


def _check_html(prose: str, excess: list[Excess]) -> None:
    """Tag openings not closed before the next one, over-long tags, elements nested too deep.

    A region runs from a tag's ``<`` to its ``>`` (skipping quoted attribute values, as the
    HTML parser does): closed regions hold no other opening, so their scans add up to the
    length of the text; each other opening may cost a scan to the end.
    """
    unclosed = 0
    open_elements: list[str] = []
    position = 0
    while match := _MARKUP.search(prose, position):
        start = match.start()
        if prose.startswith("<!--", start):  # comments: linear in Python-Markdown's parser
            position = start + 4
            continue
        end = _tag_end(prose, start)
        if end is None:
            unclosed += 1
            position = start + 2
        else:
            unclosed += len(_MARKUP.findall(prose, start + 1, end))
            position = end + 1
        if unclosed > MAX_UNCLOSED_TAGS:
            excess.append(
                Excess(
                    _line(prose, start),
                    _(
                        "troppi tag HTML aperti con '<' e non chiusi da '>' (al massimo "
                        "%(max)d per file); per mostrare il segno scrivi &lt;",
                        max=MAX_UNCLOSED_TAGS,
                    ),
                )
            )
            return
        if end is None:
            continue
        if end - start > MAX_TAG_CHARS:
            excess.append(
                Excess(
                    _line(prose, start),
                    _(
                        "tag HTML troppo lungo: più di %(max)d caratteri tra '<' e '>'",
                        max=MAX_TAG_CHARS,
                    ),
                )
            )
            return
        if _nest(prose, start, end, open_elements):
            excess.append(
                Excess(
                    _line(prose, start),
                    _(
                        "troppi elementi HTML annidati: al massimo %(max)d livelli",
                        max=MAX_HTML_DEPTH,
                    ),
                )
            )
            return


def _tag_end(prose: str, start: int) -> int | None:
    """The ``>`` that closes the opening at ``start``, or None."""
    if prose.startswith("<![CDATA[", start):
        close = _CDATA_END.search(prose, start)
        return close.end() - 1 if close else None
    if prose.startswith("<?", start):
        close = prose.find("?>", start + 2)
        return close + 1 if close >= 0 else None
    if prose[start + 1] not in "/!":  # a start tag: skip quoted attribute values
        index = start + 1
        while stop := _TAG_STOP.search(prose, index):
            if stop.group() == ">":
                return stop.start()
            before = stop.start() - 1
            while before > start and prose[before] in " \t\n\r\f":
                before -= 1
            if prose[before] == "=":
                close = prose.find(stop.group(), stop.start() + 1)
                if close < 0:
                    return None
                index = close + 1
            else:
                index = stop.start() + 1
        return None
    end = prose.find(">", start + 1)
    return end if end >= 0 else None


def _nest(prose: str, start: int, end: int, open_elements: list[str]) -> bool:
    """Follow the elements a tag opens or closes; True when they nest beyond the bound."""
    name_match = _TAG_NAME.match(prose, start)
    if name_match is None:
        return False
    name = name_match.group(1).lower()
    if prose[start + 1] == "/":
        if name in open_elements:
            while open_elements.pop() != name:
                pass
        return False
    if name in _VOID or prose[end - 1] == "/":
        return False
    if name in _CLOSED_BY_ITSELF and open_elements and open_elements[-1] == name:
        open_elements.pop()
    open_elements.append(name)
    return len(open_elements) > MAX_HTML_DEPTH


# -- positions --------------------------------------------------------------------------------


def _line(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _nth(text: str, needle: str, n: int) -> int:
    position = -1
    for _index in range(n):
        position = text.find(needle, position + 1)
    return position
