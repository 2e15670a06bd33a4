"""``lms certificates keys ...``: the installation's signing keys (Ed25519 for the signed
data and the badges, ECDSA with an X.509 certificate for the PDF signature), the DID."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from certificates import did, keys, pades
from certificates.config import external_url


@click.group("keys", invoke_without_command=True)
@click.pass_context
def keys_group(ctx: click.Context) -> None:
    """Signing keys of the installation (in the database): show, rotate, export, rewrap,
    import a PAdES key and certificate. Without a subcommand: show them all."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(keys_list)


def _did_lines() -> list[str]:
    """The DID and the address of its document."""
    return [
        f"DID: {did.issuer_id()}",
        f"Documento DID / DID document: {external_url('certificates.did_document')}",
    ]


@keys_group.command("list")
@with_appcontext
def keys_list() -> None:
    """Ed25519 keys, PAdES certificates (subject, fingerprint, validity) and the DID."""
    from lms import db

    current = keys.current_key_id(db.session, current_app.config["LMS_SECRET_KEY"])
    db.session.commit()
    click.echo("Chiavi Ed25519 (dati firmati) / Ed25519 keys (signed data):")
    for key_id in keys.public_keys(db.session):
        click.echo(f"{key_id}{'  (corrente)' if key_id == current else ''}")
    click.echo("Certificati PAdES (firma dei PDF) / PAdES certificates (PDF signature):")
    certificates = keys.pades_certificates(db.session)
    if not certificates:
        click.echo("  nessuno: creato al primo PDF / none yet: made with the first PDF")
    for key_id, pem in certificates.items():
        info = pades.describe(key_id, pem)
        flags = ["corrente" if key_id == current else "precedente"]
        flags.append("autoemesso / self-issued" if info.self_issued else f"emesso da {info.issuer}")
        click.echo(f"  {key_id}  ({', '.join(flags)})")
        click.echo(f"    soggetto / subject: {info.subject}")
        click.echo(f"    SHA-256: {info.fingerprint}")
        click.echo(
            f"    validità / validity: {info.not_before.date().isoformat()} → "
            f"{info.not_after.date().isoformat()}"
        )
    for line in _did_lines():
        click.echo(line)


@keys_group.command("rotate")
@with_appcontext
def keys_rotate() -> None:
    """New certificates get a new key; old public keys keep verifying."""
    from lms import db

    config = current_app.config
    key_id = keys.rotate(db.session, config["LMS_SECRET_KEY"], config["LMS_CERT_ISSUER"])
    db.session.commit()
    click.echo(f"Nuova chiave corrente: {key_id} (con un nuovo certificato PAdES autoemesso)")


@keys_group.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def keys_export(directory: Path) -> None:
    """Write every public key as <key id>.pub and every PAdES certificate as
    <key id>.pades.pem, for verify --public-key/--pades-cert without a database."""
    from lms import db

    directory.mkdir(parents=True, exist_ok=True)
    for key_id, key in keys.public_keys(db.session).items():
        (directory / f"{key_id}.pub").write_text(keys.public_pem(key))
        click.echo(str(directory / f"{key_id}.pub"))
    for key_id, pem in keys.pades_certificates(db.session).items():
        (directory / f"{key_id}.pades.pem").write_text(pem)
        click.echo(str(directory / f"{key_id}.pades.pem"))


@keys_group.command("import-pades")
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Chiave privata PEM (PKCS#8 o tradizionale).",
)
@click.option(
    "--cert",
    "cert_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Certificato PEM della chiave.",
)
@click.option(
    "--chain",
    "chain_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Certificati intermedi PEM (ripetibile).",
)
@click.option(
    "--password-env",
    default=None,
    help="Variabile d'ambiente con la password della chiave, se cifrata.",
)
@with_appcontext
def keys_import_pades(
    key_file: Path, cert_file: Path, chain_files: tuple[Path, ...], password_env: str | None
) -> None:
    """Sign PDFs with a trust service provider's e-seal from now on (a new generation)."""
    import os

    from cryptography.hazmat.primitives import serialization

    from lms import db

    password = os.environ.get(password_env, "").encode() if password_env else None
    try:
        private = serialization.load_pem_private_key(
            key_file.read_bytes(), password=password or None
        )
    except (ValueError, TypeError) as error:
        raise click.ClickException(f"chiave non leggibile: {error}") from None
    chain = "".join(p.read_text("ascii") for p in (cert_file, *chain_files))
    if not isinstance(private, pades.PrivateKey):
        raise click.ClickException("la chiave deve essere ECDSA o RSA")
    try:
        key_id = keys.import_pades(db.session, current_app.config["LMS_SECRET_KEY"], private, chain)
    except (keys.KeyStoreError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(
        f"Nuova generazione corrente {key_id}: i PDF sono firmati con il certificato importato."
    )


@keys_group.command("rewrap")
@click.option(
    "--old-secret-env",
    default="LMS_OLD_SECRET_KEY",
    show_default=True,
    help="Variabile d'ambiente con il segreto precedente.",
)
@with_appcontext
def keys_rewrap(old_secret_env: str) -> None:
    """After changing LMS_SECRET_KEY: encrypt the private keys under the new secret."""
    import os

    from lms import db

    old = os.environ.get(old_secret_env)
    if not old:
        raise click.ClickException(f"{old_secret_env} non impostata: serve il segreto precedente.")
    try:
        count = keys.rewrap(db.session, old, current_app.config["LMS_SECRET_KEY"])
    except keys.KeyStoreError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Chiavi private cifrate con il nuovo segreto: {count}.")
