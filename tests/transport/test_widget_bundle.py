"""The widget's parts join into the one script that ``/widget.js`` serves (no server needed)."""

from __future__ import annotations

from chatserver.transport.widget_bundle import WIDGET_PARTS, WIDGET_SRC_DIR, widget_source


def test_the_manifest_lists_every_part_in_file_name_order() -> None:
    assert list(WIDGET_PARTS) == sorted(path.name for path in WIDGET_SRC_DIR.glob("*.js"))


def test_the_parts_join_into_one_immediately_invoked_function() -> None:
    script = widget_source().decode()
    assert script.startswith("/*! Visitor chat widget.")
    assert script.count("\n(function () {\n") == 1 and script.endswith("\n})();\n")
    assert script.count("var T = {") == 1 and script.count("var E = {") == 1
