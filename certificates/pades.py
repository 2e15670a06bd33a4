"""The PDF signature every reader checks: PAdES (ETSI EN 319 142) through pyHanko.

The installation's PAdES key (ECDSA P-256: what poppler/NSS and Acrobat validate; an
imported e-seal may also be RSA) and its X.509 certificate come from ``certificates.keys``;
this module knows nothing of the database or of Flask. ``sign`` adds one signature, as an
incremental update of the page fpdf2 drew, with a small visible stamp; ``validate``
checks a document against the installation's certificates.

Signing is PAdES baseline B-B, or B-T when a timestamp authority is configured. For B-B
the CMS container is assembled from a template that pyHanko built once per key (only
the document digest and the ECDSA signature change from one certificate to the next):
pyHanko's generic CMS construction costs several times the rest of the certificate.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import functools
import io
import logging
import os
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from asn1crypto import cms
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import layout
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.fields import SigFieldSpec, SigSeedSubFilter
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata, PdfSigner
from pyhanko.sign.timestamps import TimestampRequestError
from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
log = logging.getLogger(__name__)
T = TypeVar("T")

FIELD_NAME = "FirmaAttestato"
VALIDITY = dt.timedelta(days=3653)  # ten years: old certificates keep validating
CN_MAX = 64  # X.520 upper bound of a common name
BYTES_RESERVED = 6144  # room for the CMS container (ours: about 1 KB; a TSA token: 3-5 KB)
TSA_TIMEOUT = 10  # seconds
# Where the stamp goes on the A4 landscape page (points, origin bottom left): the free
# band under the code and link, left of the QR code.
STAMP_BOX = (57, 34, 300, 62)
STAMP_TEXT = "Firmato digitalmente / Digitally signed\n{signer}\n%(ts)s"


# --- The self-issued certificate -------------------------------------------------------


def common_name(issuer: str) -> str:
    """The issuer's name cut to a common name's 64 characters (at a word where possible)."""
    name = " ".join(issuer.split()) or "LMS"
    if len(name) <= CN_MAX:
        return name
    cut = name[: CN_MAX - 1]
    if " " in cut[CN_MAX // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;–-") + "…"


def new_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def self_issued_certificate(private: PrivateKey, issuer: str, now: dt.datetime) -> str:
    """A self-issued certificate for the installation's PAdES key (PEM): subject and
    issuer are the certificate issuer's name, for document signatures only."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name(issuer))])
    start = now.astimezone(dt.UTC).replace(microsecond=0)
    public = private.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # nonRepudiation
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(private, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def load_chain(pem: str | bytes) -> list[x509.Certificate]:
    """The certificates of a PEM bundle: the signer's first, then its chain."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    return x509.load_pem_x509_certificates(data)


def matches(private: PrivateKey, certificate: x509.Certificate) -> bool:
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    return private.public_key().public_bytes(der, spki) == certificate.public_key().public_bytes(
        der, spki
    )


def fingerprint(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex(":").upper()


@dataclass(frozen=True)
class CertificateInfo:
    """What ``lms certificates keys`` and keys.json say about a PAdES certificate."""

    key_id: str  # the signing key generation it belongs to
    subject: str
    issuer: str
    fingerprint: str
    not_before: dt.datetime
    not_after: dt.datetime
    self_issued: bool
    pem: str


def describe(key_id: str, pem: str) -> CertificateInfo:
    first = load_chain(pem)[0]
    return CertificateInfo(
        key_id=key_id,
        subject=first.subject.rfc4514_string(),
        issuer=first.issuer.rfc4514_string(),
        fingerprint=fingerprint(first),
        not_before=first.not_valid_before_utc,
        not_after=first.not_valid_after_utc,
        self_issued=first.subject == first.issuer,
        pem=pem,
    )


# --- Signing ---------------------------------------------------------------------------


def _asn1_certificate(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tlv(data: bytes, at: int) -> tuple[int, int]:
    """(start of the value, end of the element) of the DER element at ``at``; its tag byte
    is data[at] (single-byte tags only, as in CMS)."""
    first = data[at + 1]
    if first < 0x80:
        return at + 2, at + 2 + first
    count = first & 0x7F
    length = int.from_bytes(data[at + 2 : at + 2 + count], "big")
    return at + 2 + count, at + 2 + count + length


def _last_child(data: bytes, start: int, end: int) -> int:
    at = start
    while True:
        _value, after = _tlv(data, at)
        if after >= end:
            return at
        at = after


class _TemplateSigner(signers.SimpleSigner):
    """pyHanko's signer, with the B-B container made from a template built by pyHanko.

    The container's last element, at every level down to the SignerInfo, is the one
    that holds the signature; the signed attributes differ between two documents only
    by the 32-byte digest. So the template keeps, per level, the tag and the bytes
    before that last element; a new container is the new signed attributes, the new
    signature, and the levels wrapped around them again.
    """

    def __init__(self, private: PrivateKey, chain: list[x509.Certificate]) -> None:
        der = private.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        certs = [_asn1_certificate(c) for c in chain]
        super().__init__(
            signing_cert=certs[0],
            signing_key=asn1_keys.PrivateKeyInfo.load(der),
            cert_registry=SimpleCertificateStore.from_certs(certs),
        )
        self._private = private
        self._levels: list[tuple[int, bytes]] | None = None
        self._digest_at = 0

    def _sign_attrs(self, attrs: bytes) -> bytes:
        if isinstance(self._private, ec.EllipticCurvePrivateKey):
            return self._private.sign(attrs, ec.ECDSA(hashes.SHA256()))
        return self._private.sign(attrs, padding.PKCS1v15(), hashes.SHA256())

    async def _template(self, settings: Any) -> list[tuple[int, bytes]]:
        if self._levels is not None:
            return self._levels
        probe = os.urandom(32)
        made = await super().async_sign(
            probe, "sha256", use_pades=True, signed_attr_settings=settings
        )
        data = made.dump()
        levels: list[tuple[int, bytes]] = []
        at, end = 0, len(data)
        # ContentInfo, [0] content, SignedData, signerInfos, SignerInfo: each ends with
        # the next; the SignerInfo ends with the signature (no unsigned attributes).
        for _level in range(5):
            start, end = _tlv(data, at)
            last = _last_child(data, start, end)
            levels.append((data[at], data[start:last]))
            at = last
        if data[at] != 0x04 or levels[-1][1].count(probe) != 1:
            raise RuntimeError("unexpected CMS layout from pyHanko")
        self._digest_at = levels[-1][1].index(probe)
        self._levels = levels
        return levels

    async def async_sign(  # type: ignore[override]
        self,
        data_digest: bytes,
        digest_algorithm: str,
        dry_run: bool = False,
        use_pades: bool = False,
        timestamper: Any = None,
        signed_attr_settings: Any = None,
        is_pdf_sig: bool = True,
        encap_content_info: Any = None,
    ) -> cms.ContentInfo:
        if (
            dry_run
            or timestamper is not None
            or not (use_pades and is_pdf_sig)
            or encap_content_info is not None
            or digest_algorithm != "sha256"
        ):
            return await super().async_sign(
                data_digest,
                digest_algorithm,
                dry_run,
                use_pades,
                timestamper,
                signed_attr_settings,
                is_pdf_sig,
                encap_content_info,
            )
        # The same PdfSigner (fixed metadata) always passes the same settings; under
        # PAdES the signing time is not among the signed attributes.
        levels = await self._template(signed_attr_settings)
        tag, prefix = levels[-1]
        prefix = prefix[: self._digest_at] + data_digest + prefix[self._digest_at + 32 :]
        # The signed attributes: the first [0] IMPLICIT element after the digest
        # algorithm; signed as a SET (tag 0x31).
        at = 0
        while prefix[at] != 0xA0:
            at = _tlv(prefix, at)[1]
        attrs = prefix[at : _tlv(prefix, at)[1]]
        signature = self._sign_attrs(b"\x31" + attrs[1:])
        inner = b"\x04" + _der_length(len(signature)) + signature
        inner = bytes([tag]) + _der_length(len(prefix) + len(inner)) + prefix + inner
        for outer, before in reversed(levels[:-1]):
            inner = bytes([outer]) + _der_length(len(before) + len(inner)) + before + inner
        # pyHanko writes the container as DER bytes when given bytes (``fill_with_cms``);
        # a ContentInfo would be parsed and serialised again on the way.
        return inner  # type: ignore[return-value]


@dataclass(frozen=True)
class Sealer:
    """Everything needed to sign documents with one key (made once per process)."""

    pdf_signer: PdfSigner
    signer: _TemplateSigner
    timestamped: bool
    untimestamped: Sealer | None = None  # B-B, when the timestamp authority fails


def _ascii(text: str) -> str:
    """The stamp's standard font draws ASCII only: dashes and ellipses spelled out."""
    text = text.replace("–", "-").replace("—", "-").replace("…", "...")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


@functools.lru_cache(maxsize=8)
def sealer(private: PrivateKey, chain_pem: str, tsa_url: str | None = None) -> Sealer:
    """The process's signer for this key and certificate (cached: ``keys`` hands out the
    same key object for the same sealed key, so each is parsed and prepared once)."""
    chain = load_chain(chain_pem)
    signer = _TemplateSigner(private, chain)
    names = chain[0].subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    signer_name = str(names[0].value) if names else chain[0].subject.rfc4514_string()
    timestamper = RequestsHTTPTimeStamper(tsa_url, timeout=TSA_TIMEOUT) if tsa_url else None
    metadata = PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
        name=signer_name,
        reason="Attestato rilasciato dalla piattaforma / Certificate issued by the platform",
    )
    style = TextStampStyle(
        stamp_text=STAMP_TEXT.format(signer=_ascii(signer_name).replace("%", "%%")),
        border_width=0,
        timestamp_format="%Y-%m-%d",
        inner_content_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins.uniform(1),
        ),
    )
    pdf_signer = PdfSigner(
        metadata,
        signer=signer,
        timestamper=timestamper,
        stamp_style=style,
        new_field_spec=SigFieldSpec(FIELD_NAME, on_page=0, box=STAMP_BOX),
    )
    fallback = sealer(private, chain_pem, None) if timestamper is not None else None
    return Sealer(pdf_signer, signer, timestamper is not None, fallback)


class _Writer(IncrementalPdfFileWriter):
    """The incremental update leaves the document information as fpdf2 wrote it: pyHanko
    would parse its UTF-16 strings again only to stamp a producer and a date on it."""

    def _update_meta(self) -> None:
        pass


def outside_event_loop(call: Callable[[], T]) -> T:
    """Run one of pyHanko's synchronous calls, which start an event loop of their own
    (``asyncio.run``): in a thread that already runs one (an asynchronous host, a
    browser-test driver) that would fail, so there it runs in a short-lived thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def sign(data: bytes, seal: Sealer) -> bytes:
    """The document with one PAdES signature over all of it (an incremental update).

    With a timestamp authority that does not answer, the document is signed without a
    timestamp (B-B) and the failure logged: a certificate is never refused for it."""
    writer = _Writer(io.BytesIO(data))
    signer = seal.pdf_signer
    if not seal.timestamped:
        return outside_event_loop(
            lambda: signer.sign_pdf(writer, bytes_reserved=BYTES_RESERVED).getvalue()
        )
    try:
        return outside_event_loop(lambda: signer.sign_pdf(writer).getvalue())
    except TimestampRequestError as error:
        log.warning("timestamp authority failed, PDF signed without a timestamp: %s", error)
        assert seal.untimestamped is not None
        return sign(data, seal.untimestamped)


# --- Validation ------------------------------------------------------------------------


class Document(enum.StrEnum):
    SIGNED = "signed"  # one signature, intact, ours, over the whole file
    MISSING = "missing"  # no PDF signature at all
    BROKEN = "broken"  # a signature that is not intact, not ours, or not over all of it


@dataclass(frozen=True)
class DocumentCheck:
    state: Document
    detail: str = ""
    timestamped: bool = False


@dataclass(frozen=True)
class Trust:
    """The installation's PAdES certificates, parsed once: the validator's trust roots."""

    roots: tuple[asn1_x509.Certificate, ...]
    since: dt.datetime | None  # when the installation began to sign PDFs (earliest cert)


@functools.lru_cache(maxsize=8)
def trust(pems: tuple[str, ...]) -> Trust:
    firsts = [load_chain(pem)[0] for pem in pems]
    since = min((c.not_valid_before_utc for c in firsts), default=None)
    return Trust(tuple(_asn1_certificate(c) for c in firsts), since)


def validate(data: bytes, roots: Trust, now: dt.datetime | None = None) -> DocumentCheck:
    """Check the PDF signature of a file that ``certificates.attachments`` already read
    within its bounds (size, objects, sections): never give pyHanko anything else."""
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
        if not signatures:
            return DocumentCheck(Document.MISSING)
        if len(signatures) != 1:
            return DocumentCheck(Document.BROKEN, f"{len(signatures)} signatures")
        context = ValidationContext(trust_roots=list(roots.roots), allow_fetching=False, moment=now)
        status = outside_event_loop(
            lambda: validate_pdf_signature(signatures[0], context, skip_diff=True)
        )
    except Exception as error:  # noqa: BLE001 - hostile input: pyHanko may raise anything
        return DocumentCheck(Document.BROKEN, f"{type(error).__name__}: {error}"[:300])
    timestamped = status.timestamp_validity is not None
    if not (status.intact and status.valid):
        return DocumentCheck(Document.BROKEN, "signature does not match the document")
    if not status.trusted:
        return DocumentCheck(Document.BROKEN, "signed by a certificate that is not ours")
    if status.coverage is None or status.coverage.name != "ENTIRE_FILE":
        return DocumentCheck(Document.BROKEN, "changes appended after signing")
    return DocumentCheck(Document.SIGNED, timestamped=timestamped)
