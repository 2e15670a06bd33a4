"""The issuer's did:web and its DID document (issue 20, items 3 and 6)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from flask import Flask

from certificates import did, keys
from lms import db
from tests.certificates.openbadges.second_verifier import multibase_decode, read_varint
from tests.conftest import service_context


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("http://lms.test", "did:web:lms.test:certificates"),
        (
            "https://formazione.comune.milano.it/",
            "did:web:formazione.comune.milano.it:certificates",
        ),
        ("http://127.0.0.1:5000", "did:web:127.0.0.1%3A5000:certificates"),
        ("https://comune.milano.it/rete/lms", "did:web:comune.milano.it:rete:lms:certificates"),
    ],
)
def test_did_follows_the_base_url(app: Flask, monkeypatch, base, expected):
    monkeypatch.setitem(app.config, "LMS_BASE_URL", base)
    with service_context(app):
        assert did.issuer_id() == expected
        assert did.issuer_profile()["url"] == base.rstrip("/")


def test_document_lists_every_key_as_multikey(app: Flask):
    with service_context(app):
        first = keys.current_key_id(db.session, app.config["LMS_SECRET_KEY"])
        second = keys.rotate(db.session, app.config["LMS_SECRET_KEY"])
        document = did.document(db.session)
        public = keys.public_keys(db.session)
    subject = "did:web:lms.test:certificates"
    assert document["id"] == subject
    assert document["@context"] == [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/multikey/v1",
    ]
    ids = [m["id"] for m in document["verificationMethod"]]
    assert f"{subject}#{first}" in ids and f"{subject}#{second}" in ids
    assert len(ids) == len(public)
    assert document["assertionMethod"] == ids == document["authentication"]
    for method in document["verificationMethod"]:
        assert method["type"] == "Multikey"
        assert method["controller"] == subject
        assert method["publicKeyMultibase"].startswith("z6Mk")
        data = multibase_decode(method["publicKeyMultibase"])
        codec, used = read_varint(data)
        assert (codec, used, len(data)) == (0xED, 2, 34)
        raw = public[method["id"].split("#")[1]].public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        assert data[used:] == raw


def test_key_id_of_method_accepts_only_ours(app: Flask):
    with service_context(app):
        assert did.key_id_of_method("did:web:lms.test:certificates#abc") == "abc"
        assert did.key_id_of_method("did:web:other.test:certificates#abc") is None
        assert did.key_id_of_method("did:web:lms.test:certificates") is None
        assert did.key_id_of_method("did:web:lms.test:certificates#") is None
