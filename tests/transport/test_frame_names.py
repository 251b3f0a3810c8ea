"""The widget and the console name only frame types and error codes that ``frames.py`` defines.

The JavaScript is read, not run. Every ``.js`` file under ``widget/`` and ``chatserver/console/``
counts (in any subfolder), so the scripts may be split into several files. Names are found in:

- name tables, ``var T = {NAME: "value", …}`` (frame types) and ``var E = {…}`` (error codes):
  each name must exist in ``frames.py`` with the same value, and every ``T.NAME`` / ``E.NAME``
  used must be in its table;
- literals: ``switch (frame.type) { case "x": … }``, ``frame.type === "x"``, the ``type`` of an
  object literal handed to ``send``/``sendFrame``/``JSON.stringify`` or assigned to ``frame``
  (frame types); ``something.code === "x"`` and the keys of a table looked up with
  ``[frame.code]`` (error codes). Codes compared on ``err``/``error``/``problem``/``exc`` are
  those of HTTP errors (the REST calls throw them), not of websocket frames, and are skipped.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from chatserver.transport import frames

ROOT = Path(__file__).resolve().parents[2]
WIDGET_DIR = ROOT / "widget"
CONSOLE_DIR = ROOT / "chatserver" / "console"
FRAMES_PY = Path(frames.__file__)

FRAME_VARS = r"(?:frame|f|msg|data)"  # what the scripts call a parsed frame
HTTP_ERROR_VARS = {"err", "error", "problem", "exc"}

TABLE_RE = re.compile(r"\b(?:var|let|const)\s+(T|E)\s*=\s*\{([^{}]*)\}")
ENTRY_RE = re.compile(r"""\b([A-Z][A-Z0-9_]*)\s*:\s*(["'])([^"']*)\2""")
TABLE_USE_RE = re.compile(r"(?<![\w.$])(T|E)\.([A-Z][A-Z0-9_]*)\b")
STRING_RE = re.compile(r"""(["'])([a-z][a-z0-9_]*)\1""")
SWITCH_RE = re.compile(rf"\bswitch\s*\(\s*{FRAME_VARS}\.type\s*\)\s*\{{")
CASE_RE = re.compile(r"""\bcase\s+(["'])([a-z][a-z0-9_]*)\1\s*:""")
TYPE_COMPARE_RE = re.compile(rf"""(typeof\s+)?\b{FRAME_VARS}\.type\s*[!=]==?\s*(["'])([a-z][a-z0-9_]*)\2""")
SENT_OBJECT_RE = re.compile(r"(?:\b(?:sendFrame|send|JSON\.stringify)\s*\(|\bframe\s*=)\s*\{")
TYPE_KEY_RE = re.compile(r"(?<![\w.$])type\s*:\s*([^,}]+)")
CODE_COMPARE_RE = re.compile(r"""(typeof\s+)?\b(\w+)\.code\s*[!=]==?\s*(["'])([a-z][a-z0-9_]*)\3""")
CODE_LOOKUP_RE = re.compile(rf"\b(\w+)\[\s*{FRAME_VARS}\.code\s*\]")
KEY_RE = re.compile(r"""(?:^|[{,\s])(["']?)([a-z][a-z0-9_]*)\1\s*:""")
VALUE_STRING_RE = re.compile(r"""(["'`])(?:\\.|(?!\1).)*\1(?!\s*:)""")  # a string that is not a key


@dataclass
class WireNames:
    """What one folder of scripts says about the wire: tables, and the names it uses, by file."""

    tables: dict[str, dict[str, tuple[str, str]]] = field(default_factory=lambda: {"T": {}, "E": {}})
    table_uses: list[tuple[str, str, str]] = field(default_factory=list)  # (table, name, file)
    frame_types: dict[str, str] = field(default_factory=dict)  # value -> first file using it
    error_codes: dict[str, str] = field(default_factory=dict)


def js_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.js"))


def _block(source: str, open_brace: int) -> str:
    """The text between the brace at ``open_brace`` and its match (strings are not special)."""
    depth = 0
    for index in range(open_brace, len(source)):
        if source[index] == "{":
            depth += 1
        elif source[index] == "}":
            depth -= 1
            if depth == 0:
                return source[open_brace + 1 : index]
    return source[open_brace + 1 :]


def _top_level(block: str) -> str:
    """``block`` without its nested ``{…}`` parts, so only the outer object's keys remain."""
    out: list[str] = []
    depth = 0
    for char in block:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif depth == 0:
            out.append(char)
    return "".join(out)


def _object_literal(source: str, name: str) -> str | None:
    match = re.search(rf"\b{re.escape(name)}\s*=\s*\{{", source)
    return None if match is None else _block(source, match.end() - 1)


def scan(folder: Path) -> WireNames:
    names = WireNames()
    for path in js_files(folder):
        source = path.read_text(encoding="utf-8")
        where = str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
        for table in TABLE_RE.finditer(source):
            for entry in ENTRY_RE.finditer(table.group(2)):
                known = names.tables[table.group(1)].setdefault(entry.group(1), (entry.group(3), where))
                assert known[0] == entry.group(3), (
                    f"{table.group(1)}.{entry.group(1)} is {known[0]!r} in {known[1]} "
                    f"but {entry.group(3)!r} in {where}"
                )
        names.table_uses.extend((m.group(1), m.group(2), where) for m in TABLE_USE_RE.finditer(source))
        found_types: list[str] = []
        for switch in SWITCH_RE.finditer(source):
            found_types += [m.group(2) for m in CASE_RE.finditer(_block(source, switch.end() - 1))]
        found_types += [m.group(3) for m in TYPE_COMPARE_RE.finditer(source) if not m.group(1)]
        for sent in SENT_OBJECT_RE.finditer(source):
            for key in TYPE_KEY_RE.finditer(_top_level(_block(source, sent.end() - 1))):
                found_types += [m.group(2) for m in STRING_RE.finditer(key.group(1))]
        for value in found_types:
            names.frame_types.setdefault(value, where)
        found_codes = [
            m.group(4)
            for m in CODE_COMPARE_RE.finditer(source)
            if not m.group(1) and m.group(2) not in HTTP_ERROR_VARS
        ]
        for lookup in CODE_LOOKUP_RE.finditer(source):
            literal = _object_literal(source, lookup.group(1))
            if literal is not None:
                keys_only = VALUE_STRING_RE.sub('""', _top_level(literal))
                found_codes += [m.group(2) for m in KEY_RE.finditer(keys_only)]
        for value in found_codes:
            names.error_codes.setdefault(value, where)
    return names


def _sections() -> dict[str, dict[str, str]]:
    """frames.py's string constants by section: "frame types" and "error codes"."""
    source = FRAMES_PY.read_text(encoding="utf-8")
    starts: dict[str, int] = {}
    for number, line in enumerate(source.splitlines(), start=1):
        heading = re.match(r"#\s*---\s*(frame types|error codes|websocket close codes)\b", line)
        if heading:
            starts[heading.group(1)] = number
    assert set(starts) == {"frame types", "error codes", "websocket close codes"}, (
        "frames.py must keep its '# --- frame types', '# --- error codes' and "
        "'# --- websocket close codes' sections, in that order"
    )
    sections: dict[str, dict[str, str]] = {"frame types": {}, "error codes": {}}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            continue
        target, value = node.targets[0], node.value
        if not (
            isinstance(target, ast.Name) and isinstance(value, ast.Constant) and isinstance(value.value, str)
        ):
            continue
        if starts["frame types"] < node.lineno < starts["error codes"]:
            sections["frame types"][target.id] = value.value
        elif starts["error codes"] < node.lineno < starts["websocket close codes"]:
            sections["error codes"][target.id] = value.value
    return sections


SECTIONS = _sections()
SCRIPTS = {"widget": WIDGET_DIR, "console": CONSOLE_DIR}
KIND_OF_TABLE = {"T": "frame types", "E": "error codes"}


def _problems(names: WireNames) -> Iterator[str]:
    for table, kind in KIND_OF_TABLE.items():
        defined = SECTIONS[kind]
        for name, (value, where) in sorted(names.tables[table].items()):
            if name not in defined:
                yield f"{where}: {table}.{name} is not one of the {kind} in frames.py"
            elif defined[name] != value:
                yield f"{where}: {table}.{name} is {value!r}, frames.py says {defined[name]!r}"
    for table, name, where in names.table_uses:
        if name not in names.tables[table]:
            yield f"{where}: uses {table}.{name}, which its {table} table does not define"
    for kind, used in (("frame types", names.frame_types), ("error codes", names.error_codes)):
        values = set(SECTIONS[kind].values())
        for value, where in sorted(used.items()):
            if value not in values:
                yield f"{where}: {value!r} is not one of the {kind} in frames.py"


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_scripts_use_only_names_frames_defines(script: str) -> None:
    names = scan(SCRIPTS[script])
    found = (
        set(names.frame_types)
        | {value for value, _ in names.tables["T"].values()}
        | set(names.error_codes)
        | {value for value, _ in names.tables["E"].values()}
    )
    # The scan itself must work: each script says hello and sends messages.
    assert {frames.HELLO, frames.MESSAGE} <= found, f"no frame names found in {SCRIPTS[script]}"
    problems = list(_problems(names))
    assert not problems, "\n".join(problems)


def test_widget_tables_are_found() -> None:
    names = scan(WIDGET_DIR)
    assert names.tables["T"] and names.tables["E"], "the widget's T and E tables were not found"


def test_a_name_frames_lacks_is_caught(tmp_path: Path) -> None:
    """The check can fail: a script with names frames.py does not have is reported."""
    (tmp_path / "part").mkdir()
    (tmp_path / "part" / "extra.js").write_text(
        'var T = { HELLO: "hello", BOGUS_FRAME: "bogus_frame", QUEUE: "queueing" };\n'
        'var E = { BOGUS_CODE: "bogus_code" };\n'
        "send({ type: T.NOT_IN_TABLE });\n"
        'function onFrame(frame) { switch (frame.type) { case "bogus_case": break; } }\n'
        'if (frame.code === "bogus_error") {}\n'
        'if (err.code === "some_http_code") {}\n',
        encoding="utf-8",
    )
    problems = "\n".join(_problems(scan(tmp_path)))
    for bogus in (
        "BOGUS_FRAME",
        "T.QUEUE is 'queueing'",
        "BOGUS_CODE",
        "T.NOT_IN_TABLE",
        "bogus_case",
        "bogus_error",
    ):
        assert bogus in problems
    assert "some_http_code" not in problems
