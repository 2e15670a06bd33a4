"""From the text of a quiz block to YAML nodes, with syntax errors a trainer can act on.

PyYAML's messages ("mapping values are not allowed here") mean little to a trainer; the
common ones are turned into what to check, in Italian, at the line where YAML gave up.
"""

from __future__ import annotations

import yaml
from flask_babel import gettext as _

from lms import yamlsafe
from lms.errors import FormatError
from quizzes.yamlnodes import Node, Reader


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is used."""
    return message


# PyYAML's problem -> what a trainer can do about it.
_SYNTAX_HINTS = (
    (
        "mapping values are not allowed",
        N_(
            "un ':' in un punto non previsto: se il testo contiene "
            "':' mettilo tra virgolette, altrimenti controlla il rientro"
        ),
    ),
    ("'\\t'", N_("c'è una tabulazione: per rientrare usa gli spazi")),
    ("could not find expected ':'", N_("manca ':' dopo il nome di una chiave")),
    ("expected <block end>", N_("rientro non coerente con le righe precedenti")),
    ("did not find expected key", N_("rientro non coerente con le righe precedenti")),
    ("did not find expected '-'", N_("un elenco deve avere ogni elemento su una riga con '- '")),
    ("end of stream", N_("testo aperto e mai chiuso: controlla virgolette e parentesi")),
    ("undefined alias", N_("'*' all'inizio di un valore: mettilo tra virgolette")),
    ("escape character", N_("'\\' non valido dentro le virgolette doppie: usa quelle singole")),
    ("expected ',' or ']'", N_("parentesi quadra non chiusa correttamente")),
    ("expected ',' or '}'", N_("parentesi graffa non chiusa correttamente")),
    (
        "cannot start any token",
        N_("un valore non può iniziare con questo carattere: mettilo tra virgolette"),
    ),
    ("expected a single document", N_("il blocco contiene '---' o '...': toglili")),
    ("found duplicate anchor", N_("'&' ripetuto all'inizio di un valore: mettilo tra virgolette")),
)


def compose(source: str, reader: Reader, *, max_chars: int) -> Node | None:
    """The root node, or ``None`` after reporting why the text is not usable YAML.

    The text is read by :mod:`lms.yamlsafe`, within its limits of depth and aliases.
    """
    if len(source) > max_chars:
        reader.report(
            reader.first_line,
            _("il blocco quiz è troppo lungo (massimo %(max)d caratteri)", max=max_chars),
        )
        return None
    last = max(0, len(source.rstrip("\n").split("\n")) - 1)
    try:
        root = yamlsafe.compose(
            source, file=reader.file, first_line=reader.first_line, max_chars=max_chars
        )
    except FormatError as error:  # a limit: already located and worded
        reader.issues.extend(error.issues)
        return None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = min(mark.line, last) if mark else 0
        reader.report(
            reader.first_line + line,
            _syntax_message(str(error.problem or ""), str(error.context or "")),
        )
        return None
    except yaml.reader.ReaderError as error:
        line = min(source.count("\n", 0, max(0, error.position)), last)
        reader.report(
            reader.first_line + line,
            _(
                "il blocco quiz contiene un carattere non ammesso (codice %(code)s)",
                code=_code_point(error.character),
            ),
        )
        return None
    except Exception as error:  # a third-party parser: the author still gets a located message
        reader.report(reader.first_line, _syntax_message(str(error)))
        return None
    if root is None:
        reader.report(reader.first_line, _("il blocco quiz è vuoto: servono almeno le domande"))
    return root


def _code_point(character: object) -> str:
    if isinstance(character, str) and len(character) == 1:
        character = ord(character)
    return f"U+{character:04X}" if isinstance(character, int) else "?"


def _syntax_message(problem: str, context: str = "") -> str:
    for needle, hint in _SYNTAX_HINTS:
        if needle in problem or needle in context:
            return _("errore di scrittura nel blocco quiz: %(hint)s", hint=_(hint))
    return _(
        "errore di scrittura nel blocco quiz (%(problem)s): controlla rientri, ':' e virgolette",
        problem=problem,
    )
