"""The sign-in sheet CSV: every bad row named by its line, and then nothing is recorded."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from live_sessions import attendance
from live_sessions.attendance_import import import_sheet
from live_sessions.models import Attendance
from lms import db
from lms.errors import Forbidden, FormatError
from tests.conftest import login, post_form
from tests.live_sessions.conftest import begin_now

PL = "CDM-PL-NTDM"


@pytest.fixture
def held(make_user, make_session, register):
    """A session of 120 minutes under way, with three people registered."""
    live = make_session(duration_minutes=120, capacity=5)
    people = [
        make_user(email=f"{name}@rete-milano.test", name=name.capitalize(), org=PL)
        for name in ("anna", "bruna", "carla")
    ]
    for person in people:
        register(live, person)
    begin_now(live)
    return live, people


def count() -> int:
    return int(db.session.scalar(select(func.count(Attendance.id))) or 0)


def test_good_sheet_with_semicolons_and_bom(in_app_context, held, trainer):
    live, (anna, bruna, carla) = held
    sheet = (
        "\ufeffNome;Email;Presenza;Minuti\n"
        "Anna;ANNA@rete-milano.test;presente;\n"
        "Bruna;bruna@rete-milano.test;parziale;45\n"
        "Carla;carla@rete-milano.test;;\n"  # not filled in: skipped
    ).encode()
    read, changed = import_sheet(db.session, live.id, sheet, "firme.csv", actor=trainer)
    db.session.commit()
    assert (read, changed) == (2, 2)
    marks = attendance.attendance_by_user(db.session, live.id)
    assert marks[anna.id].status == "present"
    assert (marks[bruna.id].status, marks[bruna.id].minutes) == ("partial", 45)
    assert carla.id not in marks
    history = attendance.history(db.session, live.id)
    assert {c.source for c in history} == {"import"}


def test_a_bad_row_stops_the_whole_sheet(in_app_context, held, trainer, make_user):
    live, _people = held
    make_user(email="iscritta-no@rete-milano.test", org=PL)
    sheet = (
        b"email,presenza,minuti\n"
        b"anna@rete-milano.test,presente,\n"
        b"bruna@rete-milano.test,forse,\n"
        b"nessuno@rete-milano.test,presente,\n"
        b"iscritta-no@rete-milano.test,presente,\n"
        b"carla@rete-milano.test,parziale,\n"
        b"anna@rete-milano.test,assente,\n"
    )
    with pytest.raises(FormatError) as caught:
        import_sheet(db.session, live.id, sheet, "firme.csv", actor=trainer)
    lines = [issue.line for issue in caught.value.issues]
    assert lines == [3, 4, 5, 6, 7]
    messages = [issue.message for issue in caught.value.issues]
    assert "forse" in messages[0] and "nessuno@rete-milano.test" in messages[1]
    assert "iscrizione confermata" in messages[2] and "minuti" in messages[3]
    assert "riga 2" in messages[4]
    assert count() == 0  # the good row on line 2 was not recorded either


def test_sheet_without_the_columns_is_refused(in_app_context, held, trainer):
    live, _people = held
    with pytest.raises(FormatError) as caught:
        import_sheet(db.session, live.id, b"nome,firma\nAnna,x\n", "firme.csv", actor=trainer)
    assert caught.value.issues[0].line == 1


def test_only_the_sessions_trainer_imports(in_app_context, held, make_user):
    from lms.accounts.models import Role

    live, _people = held
    other = make_user(roles=(Role.TRAINER,))
    with pytest.raises(Forbidden):
        import_sheet(db.session, live.id, b"email,presenza\n", "firme.csv", actor=other)


def test_import_page_shows_the_rows_to_fix(client, held, trainer):
    live, _people = held
    login(client, trainer.email)
    page = f"/live_sessions/{live.id}/attendance/import"
    template = client.get(f"/live_sessions/{live.id}/sign-in-template.csv").get_data(as_text=True)
    assert template.splitlines()[0].lstrip("\ufeff") == "email,nome,presenza,minuti"
    assert "bruna@rete-milano.test,Bruna,," in template
    bad = "email,presenza\nanna@rete-milano.test,presente\nbruna@rete-milano.test,boh\n"
    response = post_form(
        client,
        page,
        {"sheet": (io.BytesIO(bad.encode()), "firme.csv")},
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "riga 3" in html and "boh" in html
    assert count() == 0
    good = template.replace(",Bruna,,", ",Bruna,presente,")
    response = post_form(
        client,
        page,
        {"sheet": (io.BytesIO(good.encode()), "firme.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302 and count() == 1


def test_command_line_import(app, held, trainer, tmp_path):
    live, (anna, _bruna, _carla) = held
    sheet = tmp_path / "firme.csv"
    sheet.write_text("email,presenza\nanna@rete-milano.test,presente\nx@y.test,presente\n")
    runner = app.test_cli_runner()
    args = ["lms", "live_sessions", "import-attendance", str(live.id), str(sheet)]
    refused = runner.invoke(args=[*args, "--by", trainer.email])
    assert refused.exit_code == 1 and "firme.csv:3" in refused.output
    assert count() == 0
    sheet.write_text("email,presenza\nanna@rete-milano.test,presente\n")
    done = runner.invoke(args=[*args, "--by", trainer.email])
    assert done.exit_code == 0 and "Righe lette: 1; modifiche: 1." in done.output
    assert attendance.attendance_by_user(db.session, live.id)[anna.id].status == "present"
    listed = runner.invoke(args=["lms", "live_sessions", "list"])
    assert listed.exit_code == 0
