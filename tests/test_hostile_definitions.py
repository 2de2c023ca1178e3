"""Definitions written carelessly or with hostile intent: one line per problem, exit 2.

Each case here once passed validation and reached SQL as structure (``> nan``), crashed
Python (RecursionError, OverflowError, UnicodeDecodeError, MemoryError) or silently dropped
data (a repeated key). The command line must answer each with ``error: <path>: <rule>``
lines and exit status 2; the library with a :class:`DefinitionError` naming the JSON path.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import linked_audiences as la
from linked_audiences.cli import main
from linked_audiences.conditions import MAX_CONDITION_DEPTH, MAX_CONDITIONS
from linked_audiences.documents import MAX_FILE_BYTES
from linked_audiences.errors import DefinitionError
from linked_audiences.loading import load_audience_folder, read_document, validate_data

from .conftest import EXAMPLES

GRAPH = str(EXAMPLES / "graph.yaml")

VIP = {"type": "trait", "trait": "is_vip", "operator": "exists"}


def audience(condition: Any, key: str = "hostile", **extra: Any) -> dict[str, Any]:
    return {"key": key, "name": "Hostile", "condition": condition, **extra}


def write(folder: Path, name: str, content: str | bytes | dict[str, Any]) -> Path:
    path = folder / name
    if isinstance(content, dict):
        content = json.dumps(content)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def cli_errors(capsys: pytest.CaptureFixture[str], *args: str | Path) -> list[str]:
    """Run the command line in-process; it must fail with one ``error:`` line per problem."""
    status = main([str(a) for a in args])
    err = capsys.readouterr().err
    assert status == 2, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), err
    return lines


def compile_errors(capsys: pytest.CaptureFixture[str], file: Path) -> str:
    return "\n".join(cli_errors(capsys, "compile", GRAPH, file))


def compiles(capsys: pytest.CaptureFixture[str], file: Path, graph: str = GRAPH) -> str:
    status = main(["compile", graph, str(file)])
    out, err = capsys.readouterr()
    assert status == 0, err
    return out


def problem(exc: pytest.ExceptionInfo[DefinitionError]) -> tuple[str, str]:
    assert len(exc.value.problems) == 1, exc.value.problems
    return exc.value.problems[0].path, exc.value.problems[0].rule


# -- 1. numbers that are not JSON numbers, or do not fit a 64-bit float ----------------------

LTV = {"type": "trait", "trait": "lifetime_value", "operator": "greater_than", "value": "@N@"}
NUMBER_PLACES: list[tuple[str, Any, str]] = [
    ("value", LTV, "$.condition.value"),
    (
        "equals_any_of item",
        {**LTV, "operator": "equals_any_of", "value": [1, "@N@"]},
        "$.condition.value[1]",
    ),
    (
        "count",
        {"type": "event", "event": "Order Completed", "count": {"at_least": "@N@"}},
        "$.condition.count.at_least",
    ),
    (
        "window days",
        {"type": "event", "event": "Order Completed", "window": {"within_last_days": "@N@"}},
        "$.condition.window.within_last_days",
    ),
    (
        "between_days_ago",
        {"type": "event", "event": "Order Completed", "window": {"between_days_ago": [1, "@N@"]}},
        "$.condition.window.between_days_ago[1]",
    ),
    (
        "within_last days",
        {"type": "trait", "trait": "last_seen_at", "operator": "within_last", "value": "@N@"},
        "$.condition.value",
    ),
]
BAD_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1" + "0" * 400, "9" * 5000]


@pytest.mark.parametrize("token", BAD_NUMBERS, ids=lambda t: t[:12])
@pytest.mark.parametrize(("place", "condition", "path"), NUMBER_PLACES, ids=lambda x: str(x)[:20])
def test_json_numbers_that_are_not_finite_floats_are_errors(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    token: str,
    place: str,
    condition: Any,
    path: str,
) -> None:
    text = json.dumps(audience(condition)).replace('"@N@"', token)
    errors = compile_errors(capsys, write(tmp_path, "a.json", text))
    assert f"{path}: " in errors
    assert "nan" not in errors.lower().replace("nan is not", "")  # no SQL reached


@pytest.mark.parametrize("token", [".nan", ".NaN", ".inf", "-.inf", "1e400", "1" + "0" * 400])
def test_yaml_numbers_that_are_not_finite_floats_are_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    text = (
        "key: k\nname: K\ncondition:\n  type: trait\n  trait: lifetime_value\n"
        f"  operator: equals\n  value: {token}\n"
    )
    assert "$.condition.value: " in compile_errors(capsys, write(tmp_path, "a.yaml", text))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), 10**400])
def test_models_refuse_non_finite_numbers_given_as_python_data(bad: Any) -> None:
    for condition, path in [
        ({**LTV, "value": bad}, "$.condition.value"),
        ({**LTV, "operator": "equals_any_of", "value": [1.5, bad]}, "$.condition.value[1]"),
    ]:
        with pytest.raises(DefinitionError) as exc:
            validate_data(la.Audience, audience(condition))
        assert problem(exc)[0] == path
    with pytest.raises(ValueError, match=r"not a number|does not fit"):
        la.TraitCondition(trait="lifetime_value", operator="equals", value=bad)


def test_integers_beyond_64_bits_that_fit_a_float_are_compared_as_floats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = json.dumps(audience({**LTV, "value": 10**20}))
    assert "> 1e+20" in compiles(capsys, write(tmp_path, "a.json", text))


@pytest.mark.parametrize(
    ("count", "path"),
    [
        ({"at_least": True}, "$.condition.count.at_least"),
        ({"exactly": "2"}, "$.condition.count.exactly"),
        ({"at_most": 1.5}, "$.condition.count.at_most"),
    ],
)
def test_counts_are_json_integers_not_booleans_or_text(count: Any, path: str) -> None:
    """``True`` is an int in Python and ``"2"`` converts; neither is a count."""
    node = {"type": "event", "event": "Order Completed", "count": count}
    with pytest.raises(DefinitionError) as exc:
        validate_data(la.Audience, audience(node))
    assert problem(exc)[0] == path


@pytest.mark.parametrize("flag", [1, 0, "false", "yes", None])
def test_flags_are_json_booleans(flag: Any) -> None:
    """``"without": "false"`` read as False (and 1 as True) before; neither is a boolean."""
    with pytest.raises(DefinitionError) as exc:
        validate_data(la.Audience, audience({**VIP, "without": flag}))
    assert problem(exc)[0] == "$.condition.without"
    with pytest.raises(DefinitionError) as exc:
        validate_data(la.Audience, audience(VIP, include_anonymous=flag))
    assert problem(exc)[0] == "$.include_anonymous"


# -- 2. repeated keys ------------------------------------------------------------------------


def test_repeated_json_key_is_an_error_naming_the_object_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        '{"key": "k", "name": "K", "condition": '
        '{"type": "trait", "trait": "is_vip", "operator": "exists", "operator": "not_exists"}}'
    )
    errors = compile_errors(capsys, write(tmp_path, "a.json", text))
    assert "$.condition: key 'operator' appears more than once" in errors


def test_repeated_yaml_key_is_an_error_but_merge_overrides_are_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "key: k\nname: K\nname: L\ncondition: {type: trait, trait: is_vip, operator: exists}\n"
    errors = compile_errors(capsys, write(tmp_path, "a.yaml", text))
    assert "$: key 'name' appears more than once" in errors
    merged = (
        "base: &base {type: trait, trait: is_vip, operator: exists}\n"
        "key: k\nname: K\ncondition: {<<: *base, operator: not_exists}\n"
    )
    data = read_document(write(tmp_path, "b.yaml", merged))
    assert data["condition"]["operator"] == "not_exists"


# -- 3. size limits --------------------------------------------------------------------------


def test_a_file_larger_than_the_limit_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = write(tmp_path, "a.json", b" " * MAX_FILE_BYTES + b"{}")
    assert "larger than 10 MB" in compile_errors(capsys, big)


def test_a_link_to_an_endless_device_is_refused_without_reading_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.json").symlink_to("/dev/zero")
    assert "not a regular file" in compile_errors(capsys, tmp_path / "a.json")


@pytest.mark.parametrize("depth", [300, 1000, 100_000])
@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_deep_nesting_is_one_error_not_a_recursion_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], depth: int, suffix: str
) -> None:
    text = '{"key": "k", "name": "K", "condition": ' + "[" * depth + "]" * depth + "}"
    errors = compile_errors(capsys, write(tmp_path, "a" + suffix, text))
    assert "nested more than" in errors
    assert len(errors.splitlines()) == 1


def test_deep_yaml_block_nesting_is_one_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "key: k\nname: K\ncondition:\n" + "".join(
        "  " * (i + 1) + "where:\n" for i in range(1000)
    )
    assert "nested more than" in compile_errors(capsys, write(tmp_path, "a.yaml", text))


def test_condition_nesting_is_bounded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def nested(levels: int) -> Any:
        node: Any = VIP
        for _ in range(levels - 1):
            node = {"type": "group", "operator": "and", "conditions": [node]}
        return node

    ok = write(tmp_path, "ok.json", audience(nested(MAX_CONDITION_DEPTH)))
    assert "is_vip" in compiles(capsys, ok)
    deep = write(tmp_path, "deep.json", audience(nested(MAX_CONDITION_DEPTH + 1)))
    assert f"nested more than {MAX_CONDITION_DEPTH} levels" in compile_errors(capsys, deep)


def test_condition_count_is_bounded() -> None:
    many = {"type": "group", "operator": "or", "conditions": [VIP] * MAX_CONDITIONS}
    with pytest.raises(DefinitionError) as exc:
        validate_data(la.Audience, audience(many))
    assert problem(exc) == ("$.condition", f"more than {MAX_CONDITIONS:,} condition nodes")


def test_yaml_alias_bomb_is_refused_before_it_expands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Seven levels of ten aliases: 10 million trait nodes from a few hundred bytes."""
    lines = ["a0: &a0 {type: trait, trait: is_vip, operator: exists}"]
    for level in range(1, 8):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} {{type: group, operator: or, conditions: [{refs}]}}")
    text = "\n".join(["x:", *("  " + line for line in lines), "key: k", "name: K"])
    text += "\ncondition: *a7\n"
    assert len(text) < 1000
    errors = compile_errors(capsys, write(tmp_path, "a.yaml", text))
    assert "more than" in errors


def test_a_yaml_document_that_contains_itself_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "key: k\nname: K\ncondition: &c {type: group, operator: and, conditions: [*c]}\n"
    assert "nested more than" in compile_errors(capsys, write(tmp_path, "a.yaml", text))


# -- 4. files that are not UTF-8 text or cannot be read --------------------------------------

VALID = json.dumps(audience(VIP))


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (VALID.encode("utf-16"), "UTF-16"),
        (VALID.encode("utf-16-be"), "not valid JSON"),  # NULs decode as UTF-8, then fail
        (VALID.replace("Hostile", "Zoë").encode("latin-1"), "not UTF-8"),
        (bytes(range(256)), "not UTF-8"),
        (b"", "not valid JSON"),
    ],
    ids=["utf-16", "utf-16-be", "latin-1", "binary", "empty"],
)
def test_text_that_is_not_utf8_json_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, fragment: str
) -> None:
    assert fragment in compile_errors(capsys, write(tmp_path, "a.json", content))


def test_a_utf8_byte_order_mark_is_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    compiles(capsys, write(tmp_path, "a.json", b"\xef\xbb\xbf" + VALID.encode()))


def test_a_folder_a_fifo_and_an_unreadable_file_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "dir.json").mkdir()
    assert "it is a folder" in compile_errors(capsys, tmp_path / "dir.json")
    os.mkfifo(tmp_path / "fifo.json")
    assert "not a regular file" in compile_errors(capsys, tmp_path / "fifo.json")
    assert "no such file" in compile_errors(capsys, tmp_path / "missing.json").lower()

    locked = write(tmp_path, "locked.json", VALID)

    def refuse(self: Path, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", refuse)  # root reads any file; pretend we are not root
    assert "Permission denied" in compile_errors(capsys, locked)


# -- 5. graph names the compiler cannot quote ------------------------------------------------

BASE_GRAPH: dict[str, Any] = {
    "profile": {
        "traits_table": "main.traits",
        "identifiers_table": "main.ids",
        "traits": {"tier": "string"},
    },
    "entities": [
        {
            "slug": "account",
            "table": "main.account",
            "primary_key": "id",
            "columns": {"id": "string"},
        }
    ],
    "relationships": [
        {
            "slug": "accounts",
            "related_entity": "account",
            "external_id": {"type": "email", "join_key": "email"},
        }
    ],
    "events": [
        {
            "name": "Order",
            "table": "main.orders",
            "profile_key": "pid",
            "properties": {"p": "number"},
        }
    ],
}


def _graph_with(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    graph = json.loads(json.dumps(BASE_GRAPH))
    node = graph
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return graph


BAD_NAMES: list[tuple[tuple[str | int, ...], Any, str]] = [
    (("profile", "traits_table"), "main.", "$.profile.traits_table"),
    (("profile", "traits_table"), ".traits", "$.profile.traits_table"),
    (("profile", "identifiers_table"), "a.b.c.d", "$.profile.identifiers_table"),
    (("profile", "identifiers_table"), "", "$.profile.identifiers_table"),
    (("profile", "key"), "   ", "$.profile.key"),
    (("profile", "key"), "pid\x00", "$.profile.key"),
    (("profile", "traits"), {"": "string"}, '$.profile.traits[""]'),
    (("profile", "traits"), {"a\nb": "string"}, '$.profile.traits["a\\nb"]'),
    (("entities", 0, "table"), "main. account", "$.entities[0].table"),
    (("entities", 0, "primary_key"), "", "$.entities[0].primary_key"),
    (("entities", 0, "columns"), {" id": "string"}, '$.entities[0].columns[" id"]'),
    (
        ("relationships", 0, "external_id", "join_key"),
        "",
        "$.relationships[0].external_id.join_key",
    ),
    (("events", 0, "table"), "x..y", "$.events[0].table"),
    (("events", 0, "timestamp"), "\t", "$.events[0].timestamp"),
    (
        ("events", 0, "properties"),
        {"p": {"type": "number", "column": ""}},
        "$.events[0].properties.p.column",
    ),
]


@pytest.mark.parametrize(("where", "value", "path"), BAD_NAMES, ids=lambda x: repr(x)[:30])
def test_graph_names_that_cannot_be_quoted_are_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: Any, value: Any, path: str
) -> None:
    graph = _graph_with(where, value)
    with pytest.raises(DefinitionError) as exc:
        validate_data(la.DataGraph, graph)
    assert path in [p.path for p in exc.value.problems], exc.value.problems
    file = write(tmp_path, "graph.json", graph)
    cli_errors(
        capsys, "compile", file, write(tmp_path, "a.json", audience(VIP | {"trait": "tier"}))
    )


@pytest.mark.parametrize(
    "table", ["t", "s.t", "c.s.t", 'main."odd name"', "Ünïcödé.it's", "x;y.100%"]
)
def test_accepted_graph_names_compile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str
) -> None:
    graph = _graph_with(("entities", 0, "table"), table)
    graph["entities"][0]["columns"] = {"id": "string", "a b": "number", "é.x": "string"}
    file = write(tmp_path, "graph.json", graph)
    where = {"type": "column", "column": "a b", "operator": "greater_than", "value": 1}
    node = {"type": "entity", "relationship": "accounts", "where": where}
    out = compiles(capsys, write(tmp_path, "a.json", audience(node)), graph=str(file))
    assert '"a b"' in out


def test_example_graph_still_loads() -> None:
    assert la.DataGraph.load(EXAMPLES / "graph.yaml").entities


# -- 6. dates and days out of range ----------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:30+14:59"]
)
def test_instants_outside_the_years_1_to_9999_in_utc_are_errors(value: str) -> None:
    for op in ("equals", "before_date"):
        node = {"type": "trait", "trait": "last_seen_at", "operator": op, "value": value}
        with pytest.raises(DefinitionError) as exc:
            la.validate_audience(
                validate_data(la.Audience, audience(node)), la.DataGraph.load(GRAPH)
            )
        assert problem(exc) == (
            "$.condition.value",
            f"{value!r} is outside the years 1 to 9999 in UTC",
        )


@pytest.mark.parametrize(
    "value",
    ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00-01:00", "0999-06-01", "9999-12-31T23:59:59Z"],
)
def test_early_and_late_instants_that_exist_in_utc_stay_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    node = {"type": "trait", "trait": "last_seen_at", "operator": "before_date", "value": value}
    compiles(capsys, write(tmp_path, "a.json", audience(node)))


def test_out_of_range_as_of_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = write(tmp_path, "a.json", audience(VIP))
    with pytest.raises(SystemExit) as exc:
        main(["compile", GRAPH, str(file), "--as-of", "0001-01-01T00:00:00+01:00"])
    assert exc.value.code == 2
    assert len(capsys.readouterr().err.splitlines()) == 1


# -- 7. U+0000 and other text no engine stores the same way ----------------------------------


@pytest.mark.parametrize(
    ("data", "path"),
    [
        (
            audience({"type": "trait", "trait": "email", "operator": "equals", "value": "a\x00"}),
            "$.condition.value",
        ),
        (
            audience(
                {
                    "type": "trait",
                    "trait": "email",
                    "operator": "equals_any_of",
                    "value": ["a", "\x00"],
                }
            ),
            "$.condition.value[1]",
        ),
        (audience(VIP, name="Bad\x00name"), "$.name"),
        (audience(VIP, description="\x00"), "$.description"),
        (audience(VIP | {"nul\x00": 1}), '$.condition["nul\\u0000"]'),
        (
            audience({"type": "trait", "trait": "email", "operator": "equals", "value": "\ud800"}),
            "$.condition.value",
        ),
    ],
    ids=["value", "list item", "name", "description", "key", "lone surrogate"],
)
def test_nul_and_lone_surrogates_are_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: Any, path: str
) -> None:
    with pytest.raises(DefinitionError) as exc:
        validate_data(la.Audience, data)
    assert path in [p.path for p in exc.value.problems]
    errors = compile_errors(capsys, write(tmp_path, "a.json", json.dumps(data)))
    assert "U+0000" in errors or "surrogate" in errors


def test_nul_in_graph_text_is_an_error() -> None:
    graph = _graph_with(("events", 0, "name"), "Order\x00")
    with pytest.raises(DefinitionError) as exc:
        validate_data(la.DataGraph, graph)
    assert "$.events[0].name" in [p.path for p in exc.value.problems]


def test_json_text_saved_as_yaml_keeps_its_escaped_emoji(tmp_path: Path) -> None:
    """``json.dumps`` writes 🎉 as two UTF-16 halves; YAML must read them as JSON does."""
    text = json.dumps(audience({**VIP, "trait": "🎉"}, name="🎉"))
    assert "\\ud83c" in text
    data = read_document(write(tmp_path, "a.yaml", text))
    assert data["name"] == data["condition"]["trait"] == "🎉"


def test_error_lines_stay_one_line_whatever_the_keys_hold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = audience(VIP | {"a\nb\u2028c\u202ed": 1})
    errors = compile_errors(capsys, write(tmp_path, "a.json", json.dumps(data)))
    assert "\\u2028" in errors and "\\u202e" in errors


# -- 8. audience keys that collide with run event properties ---------------------------------


@pytest.mark.parametrize("key", ["audience_key", "audience_name", "relationship", "entity_id"])
def test_audience_key_cannot_be_a_property_of_every_run_event(key: str) -> None:
    with pytest.raises(DefinitionError) as exc:
        validate_data(la.Audience, audience(VIP, key=key))
    assert problem(exc)[0] == "$.key"


@pytest.mark.parametrize(
    ("key", "fragment"),
    [
        ("is_vip", "profile trait"),
        ("user-accounts", "relationship"),
        ("user-accounts__plan", "column 'plan'"),
        ("account-cards__id", "column 'id'"),
    ],
)
def test_audience_key_cannot_be_a_name_run_events_give_graph_data(
    demo_graph: la.DataGraph, key: str, fragment: str
) -> None:
    with pytest.raises(DefinitionError) as exc:
        la.validate_audience(validate_data(la.Audience, audience(VIP, key=key)), demo_graph)
    path, rule = problem(exc)
    assert path == "$.key" and fragment in rule


# -- 9. the audiences folder -----------------------------------------------------------------


def _broken_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "audiences"
    folder.mkdir()
    write(folder, "broken.json", "{not json")
    write(folder, "binary.json", bytes(range(256)))
    write(folder, "repeated.json", '{"key": "x", "key": "y", "condition": {}}')
    write(folder, "nan.yaml", "key: z\nname: Z\ncondition: {value: .nan}\n")
    (folder / "dir.json").mkdir()
    (folder / "zero.json").symlink_to("/dev/zero")
    write(folder, "vip.json", audience(VIP, key="vip"))
    return folder


def test_unrelated_broken_files_do_not_block_an_audience(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _broken_folder(tmp_path)
    uses_vip = write(folder, "root.json", audience({"type": "audience", "key": "vip"}, key="root"))
    assert "is_vip" in compiles(capsys, uses_vip)


def test_a_key_only_a_broken_file_could_define_reports_that_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _broken_folder(tmp_path)
    root = write(folder, "root.json", audience({"type": "audience", "key": "broken"}, key="root"))
    errors = compile_errors(capsys, root)
    assert "$.condition.key: unknown audience 'broken'; broken.json could define it" in errors
    assert "broken.json: $: not valid JSON" in errors


def test_audiences_option_must_name_a_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = write(tmp_path, "a.json", audience(VIP))
    for folder in (file, tmp_path / "missing"):
        (line,) = cli_errors(capsys, "compile", GRAPH, file, "--audiences", folder)
        assert str(folder) in line
    with pytest.raises(DefinitionError):
        load_audience_folder(file)


def test_two_files_with_one_key_are_an_error_when_named(tmp_path: Path) -> None:
    write(tmp_path, "one.json", audience(VIP, key="vip"))
    write(tmp_path, "two.json", audience(VIP, key="vip"))
    root = validate_data(la.Audience, audience({"type": "audience", "key": "vip"}, key="root"))
    with pytest.raises(DefinitionError, match="defined by several files"):
        load_audience_folder(tmp_path, root)
    with pytest.raises(DefinitionError, match="also defined in"):
        load_audience_folder(tmp_path)


# -- 10. the published schemas are documents editors accept -----------------------------------


def test_schemas_are_2020_12_documents_that_accept_the_examples() -> None:
    import jsonschema  # the `test` extra installs it

    from linked_audiences.schema import definition_schemas

    schemas = definition_schemas()
    for schema in schemas.values():
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(schema)
    graph = jsonschema.Draft202012Validator(schemas["data_graph"])
    assert not list(graph.iter_errors(read_document(EXAMPLES / "graph.yaml")))
    audiences = jsonschema.Draft202012Validator(schemas["audience"])
    for file in sorted((EXAMPLES / "audiences").glob("*.json")):
        assert not list(audiences.iter_errors(read_document(file))), file
    bad_count = {"type": "event", "event": "x", "count": {"at_least": 0}}
    assert list(audiences.iter_errors(audience(bad_count)))


# -- 11. fuzz: whatever the file holds, exit 0 or 2, one ``error:`` line per problem ---------

#: Text that SQL must carry as data (quotes, escapes, LIKE wildcards, bidi marks, emoji).
SQL_HOSTILE = ["'", "\\", "%", "_", ";", "--", "🎉", "\u200f", "\u202e", "\n", "é", " ", "''"]
HOSTILE_TEXT = st.sampled_from([*SQL_HOSTILE, "\x00", "\ud800"])
CLEAN_TEXT = st.lists(st.sampled_from(SQL_HOSTILE), max_size=6).map("".join)
STRINGS = st.one_of(
    st.text(max_size=12),
    st.lists(HOSTILE_TEXT, max_size=5).map("".join),
    st.sampled_from(
        [
            "is_vip",
            "email",
            "lifetime_value",
            "last_seen_at",
            "signup_date",
            "Order Completed",
            "user-accounts",
            "account-cards",
            "status",
            "2024-01-01",
            "0001-01-01T00:00:00+01:00",
        ]
    ),
)
NUMBERS = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 2**63, 10**6, True, False]),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, STRINGS)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(STRINGS, inner, max_size=4)
    ),
    max_leaves=20,
)
OPERATORS = st.sampled_from(
    [
        "equals",
        "equals_any_of",
        "greater_than",
        "contains",
        "starts_with",
        "exists",
        "before_date",
        "within_last",
        "between",
        "not_an_operator",
    ]
)


@st.composite
def conditions(draw: st.DrawFn, depth: int = 0) -> Any:
    """Condition trees of the right shape holding wrong or hostile things."""
    kind = draw(st.sampled_from(["trait", "group", "event", "entity", "audience", "junk"]))
    if kind == "group" and depth < 4:
        children = draw(st.lists(conditions(depth + 1), max_size=3))
        return {
            "type": "group",
            "operator": draw(st.sampled_from(["and", "or", "xor"])),
            "conditions": children,
        }
    if kind in ("event", "entity") and depth < 4:
        node = {"type": kind, ("event" if kind == "event" else "relationship"): draw(STRINGS)}
        if draw(st.booleans()):
            node["count"] = {
                draw(st.sampled_from(["at_least", "exactly", "at_most"])): draw(NUMBERS)
            }
        if draw(st.booleans()):
            node["window"] = draw(
                st.sampled_from(
                    [
                        {"within_last_days": draw(NUMBERS)},
                        {"between_days_ago": [draw(NUMBERS), draw(NUMBERS)]},
                    ]
                )
            )
        if draw(st.booleans()):
            node["where"] = draw(conditions(depth + 1))
        return node
    if kind == "audience":
        return {"type": "audience", "key": draw(STRINGS), "without": draw(SCALARS)}
    if kind == "junk":
        return draw(JSON)
    node = {
        "type": draw(st.sampled_from(["trait", "property", "column"])),
        "operator": draw(OPERATORS),
    }
    node[node["type"]] = draw(STRINGS)
    node["value"] = draw(st.one_of(SCALARS, st.lists(SCALARS, max_size=4)))
    return node


#: (kind, name, type) of the example graph's comparable fields, for well-typed fuzzed nodes.
FIELDS = [
    ("trait", "email", "string"),
    ("trait", "lifetime_value", "number"),
    ("trait", "last_seen_at", "timestamp"),
    ("trait", "signup_date", "date"),
    ("trait", "is_vip", "boolean"),
]
TYPED_OPS = {
    "string": [
        "equals",
        "not_equals",
        "contains",
        "starts_with",
        "ends_with",
        "equals_any_of",
        "contains_any_of",
        "before_date",
        "within_last",
    ],
    "number": ["equals", "less_than", "greater_than_or_equal", "equals_any_of"],
    "timestamp": ["before_date", "after_date", "within_last", "after_next", "greater_than"],
    "date": ["equals", "before_date", "within_next", "before_last", "less_than"],
    "boolean": ["equals", "not_equals", "exists"],
}
ISO = st.builds(
    lambda moment, offset: moment.isoformat() + offset,
    st.datetimes(),
    st.sampled_from(["", "Z", "+14:59", "-14:59", "+01:00", "-01:00"]),
) | st.dates().map(str)
DAYS = st.one_of(st.integers(0, 73_000), st.integers(0, 2**63 - 1))  # bounds are clamped


def typed_value(draw: st.DrawFn, dtype: str, op: str) -> Any:
    if op in ("within_last", "within_next", "before_last", "after_next"):
        return draw(DAYS)
    if op in ("before_date", "after_date") or dtype in ("timestamp", "date"):
        return draw(ISO)
    item = {"string": STRINGS, "number": NUMBERS, "boolean": st.booleans()}[dtype]
    if dtype == "string":
        item = st.one_of(CLEAN_TEXT, CLEAN_TEXT, STRINGS)
    if op in ("equals_any_of", "contains_any_of"):
        return draw(st.lists(item, min_size=1, max_size=4))
    return draw(item)


@st.composite
def typed_conditions(draw: st.DrawFn, depth: int = 0) -> Any:
    """Conditions that fit the example graph, so hostile values reach the compiler."""
    kind = draw(st.sampled_from(["field", "field", "group", "event", "entity"]))
    if kind == "group" and depth < 3:
        children = draw(st.lists(typed_conditions(depth + 1), min_size=1, max_size=3))
        return {
            "type": "group",
            "operator": draw(st.sampled_from(["and", "or"])),
            "conditions": children,
        }
    if kind == "event":
        where = {
            "type": "property",
            "property": "coupon",
            "operator": "contains",
            "value": draw(STRINGS),
        }
        return {
            "type": "event",
            "event": "Order Completed",
            "count": {"at_least": draw(st.integers(1, 2**63 - 1))},
            "window": {"within_last_days": draw(DAYS.filter(bool))},
            "where": where,
        }
    if kind == "entity":
        where = {
            "type": "column",
            "column": "balance",
            "operator": "less_than",
            "value": draw(NUMBERS),
        }
        return {
            "type": "entity",
            "relationship": "user-accounts",
            "count": {"exactly": draw(st.integers(0, 3))},
            **({"where": where} if draw(st.booleans()) else {}),
        }
    _, name, dtype = draw(st.sampled_from(FIELDS))
    op = draw(st.sampled_from(TYPED_OPS[dtype]))
    node = {"type": "trait", "trait": name, "operator": op}
    return node if op == "exists" else {**node, "value": typed_value(draw, dtype, op)}


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, bytes]:
    """(suffix, file content): bytes, text, JSON trees, deep nests and hostile definitions."""
    suffix = draw(st.sampled_from([".json", ".yaml"]))
    shape = draw(st.sampled_from(["bytes", "text", "tree", "deep", "audience", "typed", "typed"]))
    if shape == "bytes":
        return suffix, draw(st.binary(max_size=200))
    if shape == "text":
        return suffix, draw(st.text(max_size=200)).encode("utf-8", "surrogatepass")
    if shape == "deep":
        depth = draw(st.integers(min_value=1, max_value=3000))
        return suffix, ("[" * depth + "]" * depth).encode()
    if shape == "tree":
        data = draw(JSON)
    elif shape == "typed":
        data = {"key": "fuzzed", "name": draw(CLEAN_TEXT), "condition": draw(typed_conditions())}
    else:
        key, name = draw(st.just("fuzzed") | STRINGS), draw(STRINGS)
        data = {"key": key, "name": name, "condition": draw(conditions())}
    text = json.dumps(data, ensure_ascii=draw(st.booleans()))
    if suffix == ".yaml" and draw(st.booleans()):
        text = yaml.safe_dump(json.loads(text), allow_unicode=True)  # real YAML, not just JSON
    return suffix, text.encode("utf-8", "surrogatepass")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_fuzzed_definitions_exit_0_or_2_with_one_line_errors(document: tuple[str, bytes]) -> None:
    suffix, content = document
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / f"fuzzed{suffix}"
        file.write_bytes(content)
        for command in ("validate", "compile"):
            out, err = io.StringIO(), io.StringIO()
            started = time.monotonic()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                status = main([command, GRAPH, str(file)])
            assert time.monotonic() - started < 5, "a definition blew up"  # a hang, not speed
            assert status in (0, 2), err.getvalue()
            assert "Traceback" not in err.getvalue()
            lines = err.getvalue().splitlines()
            if status == 2:
                assert lines and all(line.startswith("error: ") for line in lines), lines
            else:
                assert not lines


def test_an_audience_name_that_would_push_events_past_32_kb_is_refused() -> None:
    from linked_audiences.conditions import MAX_NAME_LENGTH

    condition = {"type": "trait", "trait": "country", "operator": "exists"}
    la.Audience.model_validate({"key": "k", "name": "n" * MAX_NAME_LENGTH, "condition": condition})
    with pytest.raises(la.DefinitionError, match=r"\$\.name"):
        validate_data(la.Audience, {"key": "k", "name": "n" * 40_000, "condition": condition})
