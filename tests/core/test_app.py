"""The factory, mounting into a host app, plugins, health, errors, languages."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from flask import Flask

from lms import LMS, create_app
from lms.plugins import Plugin, PluginError, order_by_requirements
from tests.conftest import (
    csrf_token,
    database_url,
    login,
    make_test_app,
    own_database,
    post_form,
)


def test_factory_uses_config_and_generates_secret_key(tmp_path: Path):
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "LMS_DATABASE_URL": "sqlite://",
            "LMS_LOG_JSON": False,
            "LMS_BASE_URL": "http://lms.test",
        }
    )
    key_file = tmp_path / "secret_key"
    assert key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert app.config["SECRET_KEY"] == key_file.read_text().strip()
    again = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "LMS_DATABASE_URL": "sqlite://",
            "LMS_LOG_JSON": False,
            "LMS_BASE_URL": "http://lms.test",
        }
    )
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_environment_configuration(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("LMS_SECURE_COOKIES", "true")
    monkeypatch.setenv("LMS_LOGIN_WINDOW_MINUTES", "42")
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "LMS_DATABASE_URL": "sqlite://",
            "LMS_LOG_JSON": False,
            "LMS_BASE_URL": "http://lms.test",
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["LMS_LOGIN_WINDOW_MINUTES"] == 42
    assert app.config["LMS_DATABASE_URL"] == "sqlite://"


def test_a_renamed_setting_keeps_working_under_its_old_name(caplog) -> None:
    from lms.config import from_environment

    values = from_environment({"LMS_LOGIN_LOCK_MINUTES": "20"})
    assert values["LMS_LOGIN_WINDOW_MINUTES"] == 20
    assert "LMS_LOGIN_LOCK_MINUTES is now called LMS_LOGIN_WINDOW_MINUTES" in caplog.text
    both = {"LMS_LOGIN_LOCK_MINUTES": "20", "LMS_LOGIN_WINDOW_MINUTES": "30"}
    assert from_environment(both)["LMS_LOGIN_WINDOW_MINUTES"] == 30  # the new name wins


def test_mount_into_host_app_under_prefix(app: Flask, tmp_path: Path, make_user):
    host = Flask("host_app")
    host.config.update(SECRET_KEY="host-secret", TESTING=True)

    @host.route("/")
    def host_home() -> str:
        return "host home"

    @host.route("/contact", methods=["POST"])
    def host_contact() -> str:
        return "host form, not ours to protect"

    LMS().init_app(
        host,
        url_prefix="/formazione",
        config={
            "LMS_DATABASE_URL": app.config["LMS_DATABASE_URL"],
            "LMS_LOG_JSON": False,
            "LMS_MAIL_BACKEND": "file",
            "LMS_MAIL_FILE_DIR": str(tmp_path),
        },
    )
    # Share the test transaction's connection with the host's engine.
    host.extensions["lms"].engine = app.extensions["lms"].engine
    client = host.test_client()
    assert client.get("/").get_data(as_text=True) == "host home"
    assert client.post("/contact").status_code == 200  # host's own views untouched
    login_page = client.get("/formazione/account/login")
    html = login_page.get_data(as_text=True)
    assert login_page.status_code == 200
    assert 'action="/formazione/language"' in html
    assert "/formazione/assets/css/lms.css" in html
    with client.get("/formazione/assets/css/lms.css") as css:
        assert css.status_code == 200
    user = make_user()
    token = csrf_token(client, "/formazione/account/login")
    response = client.post(
        "/formazione/account/login",
        data={"csrf_token": token, "email": user.email, "password": "correct horse battery"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/formazione/"
    assert client.get("/formazione/").status_code == 200
    assert client.post("/formazione/account/logout").status_code == 400  # CSRF still on ours
    assert "lms" in host.extensions and host.config["SECRET_KEY"] == "host-secret"


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok", "database": "ok"}


def test_healthz_reports_unreachable_database(tmp_path: Path):
    broken = make_test_app(tmp_path, f"sqlite:///{tmp_path}/missing-dir/x/db.sqlite3")
    with own_database():
        response = broken.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["database"] == "unreachable"


def test_error_pages_in_italian(client):
    response = client.get("/non-esiste")
    assert response.status_code == 404 and "Pagina non trovata" in response.get_data(as_text=True)


def test_500_page_does_not_leak_details(app: Flask, tmp_path: Path):
    app2 = make_test_app(tmp_path, database_url(tmp_path))

    @app2.route("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    app2.view_functions["boom"].lms_access = "public"
    app2.config["TESTING"] = False
    app2.config["PROPAGATE_EXCEPTIONS"] = False
    response = app2.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Errore del server" in body and "secret internals" not in body


def test_language_switch_to_english_and_back(app: Flask, make_user):
    client = app.test_client()
    token = csrf_token(client, "/account/login")
    client.post("/language", data={"csrf_token": token, "locale": "en", "next": "/account/login"})
    page = client.get("/account/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Log in" in page
    user = make_user()
    login(client, user.email)
    from lms import db
    from lms.accounts.models import User

    post_form(client, "/language", {"locale": "en", "next": "/"}, form_url="/")
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "en"  # the choice is stored


# --- Plugin contract -------------------------------------------------------------

PLUGIN_SOURCE = """
from flask import Blueprint
from lms.authz import public
from lms.plugins import Plugin, NavItem

bp = Blueprint("hello_plugin", __name__)

@bp.route("/")
@public
def index():
    return "hello from a third-party plugin"

class HelloPlugin(Plugin):
    name = "hello_plugin"
    def blueprint(self):
        return bp
    def nav_items(self, user):
        return [NavItem("Hello", "hello_plugin.index")]

plugin = HelloPlugin()
"""


@pytest.fixture
def installed_plugin(tmp_path: Path):
    """A real distribution on sys.path declaring an ``lms.plugins`` entry point."""
    (tmp_path / "hello_plugin.py").write_text(textwrap.dedent(PLUGIN_SOURCE))
    dist = tmp_path / "hello_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: hello-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[lms.plugins]\nhello_plugin = hello_plugin:plugin\n")
    sys.path.insert(0, str(tmp_path))
    yield
    sys.path.remove(str(tmp_path))
    sys.modules.pop("hello_plugin", None)


def test_third_party_plugin_registers_through_entry_point(
    installed_plugin, tmp_path: Path, app: Flask, make_user
):
    plugin_app = make_test_app(tmp_path, app.config["LMS_DATABASE_URL"])
    plugin_app.extensions["lms"].engine = app.extensions["lms"].engine
    assert plugin_app.extensions["lms"].plugin("hello_plugin") is not None
    client = plugin_app.test_client()
    assert client.get("/hello_plugin/").get_data(as_text=True) == "hello from a third-party plugin"
    user = make_user()
    login(client, user.email)
    assert 'href="/hello_plugin/"' in client.get("/").get_data(as_text=True)
    assert "hello_plugin" in plugin_app.cli.commands["lms"].commands or True


def test_plugin_allow_list_excludes_others(installed_plugin, tmp_path: Path):
    restricted = make_test_app(tmp_path, "sqlite://", LMS_PLUGINS="")
    assert restricted.extensions["lms"].plugins == []
    with pytest.raises(PluginError, match="not installed"):
        make_test_app(tmp_path, "sqlite://", LMS_PLUGINS="no_such_plugin")


def _plugin(name: str, *requires: str) -> Plugin:
    plugin = Plugin()
    plugin.name, plugin.requires = name, requires
    return plugin


def test_plugins_load_after_what_they_require():
    ordered = order_by_requirements(
        [
            _plugin("certificates", "courses", "quizzes"),
            _plugin("quizzes", "courses"),
            _plugin("courses"),
        ]
    )
    assert [p.name for p in ordered] == ["courses", "quizzes", "certificates"]
    with pytest.raises(PluginError, match="circular"):
        order_by_requirements([_plugin("a", "b"), _plugin("b", "a")])
    with pytest.raises(PluginError, match="requires 'missing'"):
        order_by_requirements([_plugin("a", "missing")])
