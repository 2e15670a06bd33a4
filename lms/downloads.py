"""One way to send a file to download: the ``Content-Disposition`` header built by
werkzeug's header quoting, so a name with quotes, semicolons or accents stays one
valid name (hand-built ``filename="..."`` headers broke on those)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from urllib.parse import quote

from flask import Response


def attachment(
    body: bytes | str | Iterable[bytes] | Iterable[str],
    filename: str,
    mimetype: str,
    *,
    inline: bool = False,
) -> Response:
    """A response that the browser saves as ``filename`` (or shows, with ``inline``).

    ``body`` may be a generator (a streamed archive). Non-ASCII names go as RFC 6266's
    ``filename*`` with an ASCII ``filename`` fallback, as ``flask.send_file`` does.
    """
    response = Response(body, mimetype=mimetype)
    response.headers.set(
        "Content-Disposition", "inline" if inline else "attachment", **_names(filename)
    )
    return response


def _names(filename: str) -> dict[str, str]:
    if filename.isascii():
        return {"filename": filename}
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    # RFC 5987 attr-chars stay as they are, everything else percent-encoded (as werkzeug).
    return {"filename": fallback, "filename*": "UTF-8''" + quote(filename, safe="!#$&+-.^_`|~")}
