"""``lms quizzes ...``: reopen a quiz for someone who used up their attempts."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from lms import db


@click.group("quizzes", help="Quiz: riapertura dei tentativi.")
def quizzes_cli() -> None:
    pass


@quizzes_cli.command("reset")
@click.argument("email")
@click.argument("course_slug")
@click.argument("module_slug")
@with_appcontext
def reset_command(email: str, course_slug: str, module_slug: str) -> None:
    """Void EMAIL's attempts at a module's quiz (audit-logged), so they can try again."""
    from courses.api import get_course
    from lms.accounts.services import get_user_by_email
    from lms.errors import ServiceError
    from quizzes.attempts import void_attempts

    user = get_user_by_email(db.session, email)
    if user is None:
        raise click.ClickException(f"Nessun account con l'indirizzo {email}.")
    try:
        course = get_course(db.session, course_slug)
    except ServiceError as error:
        raise click.ClickException(str(error)) from error
    count = void_attempts(db.session, user.id, course.id, module_slug)
    db.session.commit()
    click.echo(f"Tentativi annullati: {count}.")
