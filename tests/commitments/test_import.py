"""Staff import: bad files refused with row-numbered Italian errors and nothing written;
good files in every encoding Excel produces; preview, confirm, idempotence, invitations."""

from __future__ import annotations

import codecs
import io
import re

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from commitments.staff import files as staff_files
from commitments.staff import importing as staff_import
from lms import db
from lms.accounts.models import User
from lms.audit import AuditEntry
from lms.organisations.models import Membership
from lms.organisations.services import end_membership, organisation_by_code
from tests.commitments.helpers import ASST, PL, org_id
from tests.conftest import login, membership, post_form

HEADER = "email;nome;cognome;profilo\r\n"
GOOD_ROW = "mario.rossi@comune-prova.test;Mario;Rossi;polizia_locale\r\n"


def xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def writes(app) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count(User.id))),
            db.session.scalar(select(func.count(Membership.id))),
        )


@pytest.fixture
def referent_client(app, make_user):
    with app.app_context():
        referent = make_user(org=PL, referent=True, audience="amministrazione")
    client = app.test_client()
    login(client, referent.email)
    client.org_id = org_id_of(app)
    return client


def org_id_of(app) -> int:
    with app.app_context():
        return org_id(PL)


def upload(client, data: bytes, filename: str = "personale.csv"):
    url = f"/commitments/organisations/{client.org_id}/import"
    response = post_form(
        client,
        url,
        {"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
        follow_redirects=True,  # so that closing the response closes the request body
    )
    response.get_data()
    response.close()  # closes the request body, a temp file when large
    return response


def confirm(client, preview_html: str):
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', preview_html)
    assert payload, "no confirmation form in the preview"
    url = f"/commitments/organisations/{client.org_id}/import/apply"
    form_url = f"/commitments/organisations/{client.org_id}/import"
    return post_form(client, url, {"payload": payload.group(1)}, form_url=form_url)


BAD_FILES = [
    (
        "pipe delimiter",
        b"email|nome|cognome|profilo\nmario@x.test|Mario|Rossi|polizia_locale\n",
        "Separatore «|» non supportato",
    ),
    (
        "one column only (no separator)",
        b"email nome cognome profilo\nmario@x.test Mario Rossi polizia_locale\n",
        "Riga 1: c'è una sola colonna",
    ),
    (
        "missing column",
        b"email;nome;cognome\nmario@x.test;Mario;Rossi\n",
        "mancano le colonne: profilo",
    ),
    (
        "bad e-mail",
        (HEADER + "mario.rossi@@comune;Mario;Rossi;polizia_locale\r\n").encode(),
        "Riga 2: indirizzo e-mail non valido: «mario.rossi@@comune»",
    ),
    (
        "duplicate rows",
        (HEADER + GOOD_ROW + GOOD_ROW.upper().replace("POLIZIA_LOCALE", "polizia_locale")).encode(),
        "Riga 3: l'indirizzo mario.rossi@comune-prova.test compare già alla riga 2",
    ),
    (
        "unknown profile",
        (HEADER + "a@x.test;Anna;Neri;vigili_urbani\r\n").encode(),
        "Riga 2: profilo sconosciuto: «vigili_urbani»",
    ),
    (
        "formula-like name",
        (
            HEADER + GOOD_ROW + 'b@x.test;"=HYPERLINK(""http://x"",""y"")";Bianchi;scuola\r\n'
        ).encode(),
        "Riga 3: «=HYPERLINK(",
    ),
    (
        "formula-like e-mail",
        (HEADER + "@SUM(A1)@x.test;Anna;Neri;scuola\r\n").encode(),
        "sembra una formula",
    ),
    ("empty file", b"   \r\n", "Il file è vuoto."),
    ("header only", HEADER.encode(), "Il file non contiene persone dopo l'intestazione."),
    (
        "missing name",
        (HEADER + "a@x.test;;;scuola\r\n").encode(),
        "Riga 2: manca il nome e cognome.",
    ),
    (
        "extra columns from a comma in an unquoted name",
        b"email,nome,cognome,profilo\r\na@x.test,Anna,De Neri, Rossi,scuola\r\n",
        "Riga 2: ci sono 5 colonne ma l'intestazione ne ha 4",
    ),
    (
        "unclosed quote",
        (HEADER + 'a@x.test;"Anna;Neri;scuola\r\n').encode(),
        "il CSV non è leggibile",
    ),
    ("binary file", b"\x00\x01\x02garbage\x00" * 20, "Il file sembra binario"),
    (
        "old .xls",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100,
        "Excel 97-2003 (.xls) non è supportato",
    ),
    ("damaged .xlsx", b"PK\x03\x04not really a zip", "non è un file Excel (.xlsx) valido"),
    (
        "duplicate header",
        b"email;email;nome;cognome;profilo\r\na@x.test;a@x.test;A;B;scuola\r\n",
        "La colonna «email» compare due volte.",
    ),
    (
        "formula cell in XLSX",
        xlsx([["email", "nome", "cognome", "profilo"], ["a@x.test", "=1+1", "Neri", "scuola"]]),
        "Riga 2: «=1+1 Neri» inizia con =, +, - o @",
    ),
]


@pytest.mark.parametrize(
    ("data", "message"), [case[1:] for case in BAD_FILES], ids=[case[0] for case in BAD_FILES]
)
def test_bad_files_are_refused_with_a_clear_message_and_nothing_written(
    app, referent_client, outbox, data, message
):
    before = writes(app)
    name = "personale.xlsx" if data.startswith(b"PK") else "personale.csv"
    response = upload(referent_client, data, name)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html.replace("&#39;", "'").replace("&#34;", '"').replace("&quot;", '"')
    assert "nessuna modifica" in html.lower()
    assert 'name="payload"' not in html  # nothing to confirm
    assert writes(app) == before
    assert outbox.messages() == []


def test_a_huge_file_is_refused_before_parsing(app, referent_client):
    before = writes(app)
    big = (HEADER + GOOD_ROW * 40_000).encode()  # about 2.3 MB
    html = upload(referent_client, big).get_data(as_text=True)
    assert "Il file è troppo grande (2," in html and "il limite è 2 MB" in html
    assert writes(app) == before


def test_too_many_rows_are_refused_with_the_limit(app, referent_client):
    app.config["LMS_COMMITMENTS_IMPORT_MAX_ROWS"] = 3
    try:
        rows = "".join(f"p{i}@x.test;P;{i};scuola\r\n" for i in range(4))
        html = upload(referent_client, (HEADER + rows).encode()).get_data(as_text=True)
    finally:
        app.config["LMS_COMMITMENTS_IMPORT_MAX_ROWS"] = 5000
    assert "Il file contiene più di 3 persone" in html


def test_one_bad_row_among_good_ones_writes_nothing(ctx):
    organisation = organisation_by_code(db.session, PL)
    rows = [
        staff_files.RawRow(2, "ok1@x.test", "Uno Ok", "scuola"),
        staff_files.RawRow(3, "ok2@x.test", "Due Ok", "scuola"),
        staff_files.RawRow(4, "non-una-email", "Tre", "scuola"),
    ]
    users_before = db.session.scalar(select(func.count(User.id)))
    with pytest.raises(staff_import.ImportRefused) as refused:
        staff_import.apply_import(db.session, organisation, rows)
    assert [str(e) for e in refused.value.plan.errors] == [
        "Riga 4: indirizzo e-mail non valido: «non-una-email»."
    ]
    db.session.rollback()
    assert db.session.scalar(select(func.count(User.id))) == users_before


GOOD_NAMES = ["Nicolò Ferrè", "Zoë D'Annunzio"]


@pytest.mark.parametrize(
    ("encoding", "data", "shown"),
    [
        (
            "Excel UTF-8 with BOM and semicolons",
            codecs.BOM_UTF8
            + (
                HEADER + "n.ferre@x.test;Nicolò;Ferrè;polizia_locale\r\n"
                "z.dannunzio@x.test;Zoë;D'Annunzio;Polizia Locale\r\n"
            ).encode(),
            "UTF-8 (BOM)",
        ),
        (
            "Windows-1252 fallback",
            (
                HEADER + "n.ferre@x.test;Nicolò;Ferrè;polizia_locale\r\n"
                "z.dannunzio@x.test;Zoë;D'Annunzio;POLIZIA LOCALE\r\n"
            ).encode("cp1252"),
            "Windows-1252",
        ),
        (
            "UTF-8 commas, one name column, extra column",
            (
                "E-mail,Nome e cognome,Profilo professionale,Matricola\n"
                "n.ferre@x.test,Nicolò Ferrè,polizia_locale,123\n"
                'z.dannunzio@x.test,"Zoë D\'Annunzio",Local police,456\n'
            ).encode(),
            "colonne ignorate: Matricola",
        ),
        (
            "UTF-16 tab-separated (Excel Unicode text)",
            (
                "email\tnome\tcognome\tprofilo\r\n"
                "n.ferre@x.test\tNicolò\tFerrè\tpolizia_locale\r\n"
                "z.dannunzio@x.test\tZoë\tD'Annunzio\tpolizia_locale\r\n"
            ).encode("utf-16"),
            "UTF-16",
        ),
    ],
    ids=["bom-semicolon", "cp1252", "comma-fullname", "utf16-tab"],
)
def test_good_files_in_every_encoding(app, referent_client, outbox, encoding, data, shown):
    before = writes(app)
    preview = upload(referent_client, data).get_data(as_text=True)
    unescaped = preview.replace("&#39;", "'")
    assert shown in unescaped
    for name in GOOD_NAMES:
        assert name in unescaped
    assert "Nuovo account (riceverà l'invito): <strong>2 persone</strong>" in preview
    assert writes(app) == before  # the preview writes nothing
    done = confirm(referent_client, preview)
    assert done.status_code == 302 and "/jobs/" in done.headers["Location"]  # a worker applies it
    job_page = referent_client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Importazione completata: 2 nuovi account invitati" in job_page
    assert writes(app) == (before[0] + 2, before[1] + 2)
    assert sorted(m["To"] for m in outbox.messages()) == ["n.ferre@x.test", "z.dannunzio@x.test"]
    with app.app_context():
        names = set(db.session.scalars(select(User.full_name).where(User.email.like("%@x.test"))))
        logged = list(
            db.session.execute(
                select(AuditEntry.actor_role, AuditEntry.organisation_id).where(
                    AuditEntry.action == "membership.added",
                    AuditEntry.subject_id.in_(select(User.id).where(User.email.like("%@x.test"))),
                )
            )
        )
    assert names == set(GOOD_NAMES)
    assert logged == [("referent", referent_client.org_id)] * 2  # audit-logged, by whom


def test_xlsx_from_the_template_then_idempotent_reimport(app, referent_client, outbox):
    template = referent_client.get(
        f"/commitments/organisations/{referent_client.org_id}/import/modello.xlsx"
    )
    workbook = load_workbook(io.BytesIO(template.data))
    sheet = workbook["Personale"]
    assert [c.value for c in sheet[1]] == ["email", "nome", "cognome", "profilo", "unità"]
    assert workbook["Profili"]["A2"].value
    sheet.append(["anna.neri@x.test", "Anna", "Neri", "Polizia Locale"])
    sheet.append(["bruno.blu@x.test", "Bruno", "Blu", "polizia_locale"])
    out = io.BytesIO()
    workbook.save(out)
    preview = upload(referent_client, out.getvalue(), "personale.xlsx").get_data(as_text=True)
    assert "File XLSX" in preview
    confirm(referent_client, preview)
    assert len(outbox.messages()) == 2
    after_first = writes(app)
    again = upload(referent_client, out.getvalue(), "personale.xlsx").get_data(as_text=True)
    assert "Nessuna modifica: il file corrisponde già al personale registrato." in again
    assert "Già presente, nessuna modifica: <strong>2 persone</strong>" in again
    assert 'name="payload"' not in again
    assert writes(app) == after_first and len(outbox.messages()) == 2


def test_csv_template_is_excel_friendly(referent_client):
    response = referent_client.get(
        f"/commitments/organisations/{referent_client.org_id}/import/modello.csv"
    )
    assert response.data == codecs.BOM_UTF8 + "email;nome;cognome;profilo;unità\r\n".encode()
    assert "attachment" in response.headers["Content-Disposition"]


def test_existing_accounts_rejoin_update_and_note_other_organisations(
    app, make_user, referent_client, outbox
):
    with app.app_context():
        former = make_user(org=PL, name="Ex Collega", email="ex@x.test")
        current = make_user(org=PL, name="Attuale", email="attuale@x.test")
        elsewhere = make_user(
            org=ASST, name="Altrove", email="altrove@x.test", audience="triage_asst"
        )
        end_membership(db.session, org_id(PL), former.id)
        db.session.commit()
        former_row = membership(former, PL).id
    data = (
        HEADER
        + "ex@x.test;Ex;Collega;polizia_locale\r\n"
        + "attuale@x.test;Attuale;;scuola\r\n"
        + "altrove@x.test;Altrove;;polizia_locale\r\n"
    ).encode()
    preview = upload(referent_client, data).get_data(as_text=True)
    assert "Di nuovo nell'organizzazione (storico conservato)" in preview
    assert "Profilo aggiornato" in preview
    assert "account già presente in un'altra organizzazione della Rete" in preview
    assert "Triage" not in preview and "Niguarda" not in preview  # the other one is not named
    confirm(referent_client, preview)
    with app.app_context():
        assert membership(former, PL).id == former_row  # the same row: history kept
        assert membership(former, PL).ended_at is None
        assert membership(current, PL).audience.code == "scuola"
        assert membership(elsewhere, PL).ended_at is None
        assert membership(elsewhere, ASST).ended_at is None
    assert outbox.messages() == []  # existing accounts get no new invitation


def test_a_tampered_or_foreign_confirmation_is_refused(app, make_user, referent_client):
    before = writes(app)
    preview = upload(referent_client, (HEADER + GOOD_ROW).encode()).get_data(as_text=True)
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', preview).group(1)
    url = f"/commitments/organisations/{referent_client.org_id}/import/apply"
    form_url = f"/commitments/organisations/{referent_client.org_id}/import"
    tampered = post_form(
        referent_client,
        url,
        {"payload": payload[:-3] + "abc"},
        form_url=form_url,
        follow_redirects=True,
    )
    assert "Dati dell&#39;anteprima non validi" in tampered.get_data(as_text=True)
    # Another referent of the same organisation cannot replay it.
    with app.app_context():
        other = make_user(org=PL, referent=True, audience="amministrazione")
    client = app.test_client()
    login(client, other.email)
    replay = post_form(client, url, {"payload": payload}, form_url=form_url, follow_redirects=True)
    assert "Dati dell&#39;anteprima non validi" in replay.get_data(as_text=True)
    assert writes(app)[0] == before[0] + 1  # only the second referent's own account
