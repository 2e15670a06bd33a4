"""The certificates plugin: signed PDF certificates, verification, expiry."""

from __future__ import annotations

from lms.plugins import Plugin


class CertificatesPlugin(Plugin):
    name = "certificates"


plugin = CertificatesPlugin()
