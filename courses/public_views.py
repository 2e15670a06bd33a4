"""Public pages: the awareness path read by anyone, with nothing recorded (courses.public)."""

from __future__ import annotations

from typing import Any

from flask import render_template

from courses.blueprint import bp
from courses.catalogue import find_module, lesson_html, neighbours
from courses.public import public_version
from lms import db
from lms.authz import public


@bp.route("/public/<slug>/")
@public
def public_course(slug: str) -> Any:
    version = public_version(db.session, slug)
    return render_template("courses/public_course.html", version=version)


@bp.route("/public/<slug>/<module_slug>")
@public
def public_module(slug: str, module_slug: str) -> Any:
    version = public_version(db.session, slug)
    module = find_module(version, module_slug)
    return render_template(
        "courses/public_module.html",
        version=version,
        module=module,
        lesson_html=lesson_html(db.session, module),
        place=neighbours(version, module),
    )
