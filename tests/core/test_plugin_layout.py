"""Every plugin is laid out the same way: its blueprint in ``<name>/blueprint.py``."""

from __future__ import annotations

from flask import Flask


def test_each_plugin_defines_its_blueprint_in_blueprint_py(app: Flask):
    plugins = app.extensions["lms"].plugins
    assert plugins
    for plugin in plugins:
        bp = plugin.blueprint()
        assert bp is not None and bp.name == plugin.name
        assert bp.import_name == f"{plugin.name}.blueprint", plugin.name
        assert any(rule.endpoint.startswith(f"{plugin.name}.") for rule in app.url_map.iter_rules())
