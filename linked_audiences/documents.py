"""Definition text → plain JSON data, refusing data that no definition should hold.

JSON and YAML parsers accept more than a definition may contain: ``NaN`` and ``Infinity``,
numbers no warehouse can store, keys listed twice (the last silently wins), YAML aliases that
expand a few hundred bytes into millions of nodes, nesting deep enough to exhaust Python's
stack, and strings with U+0000 (PostgreSQL and Redshift cannot store it, so engines would
disagree). Each of these is a :class:`DefinitionError` naming the JSON path, found by an
iterative walk (no recursion) that stops as soon as a size limit is crossed.

The same walk runs on data handed to the models directly (``Audience.model_validate``), so a
dict holding ``float("nan")`` fails the same way as a file holding ``NaN``.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import BaseModel

from linked_audiences.errors import DefinitionError, Problem, json_path

#: Largest definition file read (bytes); generous for hand-written and generated definitions.
MAX_FILE_BYTES = 10 * 1024 * 1024
#: Deepest nesting of JSON objects and arrays (64 condition levels need about 130).
MAX_NESTING = 200
#: Most JSON values a definition may expand to, counting a YAML alias once per use.
MAX_VALUES = 1_000_000
#: A walk stops collecting after this many problems; one screen is enough to start fixing.
MAX_PROBLEMS = 50

#: Validation context key: the data was already walked by :func:`problems` (read from a file).
CHECKED = "linked_audiences.checked"

NUL_RULE = "contains U+0000 (NUL), which PostgreSQL and Redshift cannot store"
SURROGATE_RULE = "contains a lone UTF-16 surrogate, which is not a character"
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


class JsonObject(dict[Any, Any]):
    """A parsed object that remembers the keys its text listed more than once."""

    duplicates: tuple[Any, ...] = ()


@dataclass(frozen=True)
class BadNumber:
    """A number in the text that a definition may not hold (``NaN``, ``1e400``, …)."""

    text: str


def text_rule(text: str) -> str | None:
    """Why a string cannot appear in a definition, or None."""
    match = _BAD_TEXT.search(text)
    if match is None:
        return None
    return NUL_RULE if match.group() == "\x00" else SURROGATE_RULE


def number_rule(value: object) -> str | None:
    """Why a number cannot appear in a definition: it must be finite and fit a 64-bit float."""
    if isinstance(value, BadNumber):
        if value.text.lstrip("+-") in ("NaN", "Infinity"):
            return f"{value.text} is not a number a definition may hold"
        return f"{_short(value.text)} does not fit a 64-bit float"
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value} is not a number a definition may hold"
    if isinstance(value, int):
        try:
            float(value)
        except OverflowError:
            return f"{_short(str(value))} does not fit a 64-bit float"
    return None


def _short(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:10]}…({len(text)} characters)"


# -- JSON -----------------------------------------------------------------------------------


def _json_object(pairs: list[tuple[str, Any]]) -> JsonObject:
    obj = JsonObject(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        repeated: list[str] = []
        for key, _ in pairs:
            if key in seen:
                repeated.append(key)
            seen.add(key)
        obj.duplicates = tuple(repeated)
    return obj


def _json_float(text: str) -> float | BadNumber:
    value = float(text)
    return value if math.isfinite(value) else BadNumber(text)


def _json_int(text: str) -> int | BadNumber:
    # 310 characters hold every integer up to the largest float; longer ones never fit, and
    # Python refuses to convert more than 4,300 digits at all.
    return int(text) if len(text) <= 310 else BadNumber(text)


def parse_json(text: str) -> Any:
    """Parse JSON text; bad numbers and repeated keys stay visible for :func:`problems`."""
    return json.loads(
        text,
        object_pairs_hook=_json_object,
        parse_float=_json_float,
        parse_int=_json_int,
        parse_constant=BadNumber,
    )


# -- YAML -----------------------------------------------------------------------------------


class _TooDeep(yaml.YAMLError):
    pass


class DefinitionLoader(yaml.SafeLoader):
    """YAML's safe loader, with JSON's data model.

    Mappings remember repeated keys; nesting is bounded while composing (the stock composer
    recurses per level); timestamps stay the text they were written as (``2024-01-01``
    unquoted is a date string in JSON terms, not a Python ``date``).
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_NESTING:
                raise _TooDeep(f"nested more than {MAX_NESTING} levels deep")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def repeated_keys(self, node: yaml.MappingNode) -> tuple[Any, ...]:
        """Keys a mapping lists twice itself (a ``<<`` merge may be overridden: that is YAML)."""
        seen: set[Any] = set()
        repeated: list[Any] = []
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node)
            try:
                if key in seen:
                    repeated.append(key)
                seen.add(key)
            except TypeError:  # unhashable: construct_mapping reports it
                continue
        return tuple(repeated)


def _construct_map(loader: DefinitionLoader, node: yaml.MappingNode) -> Any:
    data = JsonObject()
    yield data
    repeated = loader.repeated_keys(node)
    data.update(loader.construct_mapping(node))
    if repeated:
        data.duplicates = repeated


DefinitionLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)


def _construct_text(loader: DefinitionLoader, node: yaml.ScalarNode) -> str:
    return str(loader.construct_scalar(node))


def _construct_str(loader: DefinitionLoader, node: yaml.ScalarNode) -> str:
    """YAML's ``"\\ud83c\\udf89"`` escapes are UTF-16 halves (JSON text saved as YAML writes
    them); join valid pairs into their character, as JSON does. Lone halves stay, and
    :func:`problems` reports them."""
    text = str(loader.construct_scalar(node))
    if _BAD_TEXT.search(text):
        with contextlib.suppress(UnicodeDecodeError):
            text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
    return text


DefinitionLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_text)
DefinitionLoader.add_constructor("tag:yaml.org,2002:str", _construct_str)


def parse_yaml(text: str) -> Any:
    """Parse one YAML document; raises ``yaml.YAMLError`` (or ValueError) on bad text."""
    loader = DefinitionLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


# -- the walk -------------------------------------------------------------------------------

_Link = tuple["_Link | None", "str | int"] | None


def _path(link: _Link) -> str:
    parts: list[str | int] = []
    while link is not None:
        link, part = link
        parts.append(part)
    return json_path(*reversed(parts))


def problems(data: Any) -> list[Problem]:
    """Everything in parsed ``data`` that no definition may hold, with JSON paths.

    Iterative, and it stops at the first size limit crossed, so a YAML alias bomb or a
    self-referencing document costs at most :data:`MAX_VALUES` steps.
    """
    found: list[Problem] = []
    rule: str | None
    stack: list[tuple[Any, int, _Link]] = [(data, 0, None)]
    count = 0
    while stack and len(found) < MAX_PROBLEMS:
        value, depth, link = stack.pop()
        count += 1
        if count > MAX_VALUES:
            rule = f"more than {MAX_VALUES:,} values (a YAML alias counts once per use)"
            return [*found, Problem("$", rule)]
        if isinstance(value, (dict, list)) and depth >= MAX_NESTING:
            return [*found, Problem(_path(link), f"nested more than {MAX_NESTING} levels deep")]
        if isinstance(value, dict):
            for key in getattr(value, "duplicates", ()):
                found.append(Problem(_path(link), f"key {key!r} appears more than once"))
            children: list[tuple[Any, int, _Link]] = []
            for key, child in value.items():
                if not isinstance(key, str):
                    found.append(Problem(_path(link), _key_rule(key)))
                    continue
                rule = text_rule(key)
                if rule:
                    found.append(Problem(_path((link, key)), f"the key {rule}"))
                children.append((child, depth + 1, (link, key)))
            stack.extend(reversed(children))
        elif isinstance(value, list):
            stack.extend((value[i], depth + 1, (link, i)) for i in reversed(range(len(value))))
        elif isinstance(value, str):
            rule = text_rule(value)
            if rule:
                found.append(Problem(_path(link), f"the text {rule}"))
        elif value is None or isinstance(value, BaseModel):
            continue  # a model was validated when it was built
        elif isinstance(value, (bool, int, float, BadNumber)):
            rule = number_rule(value)
            if rule:
                found.append(Problem(_path(link), rule))
        else:
            found.append(Problem(_path(link), _type_rule(value)))
    return found


def _key_rule(key: object) -> str:
    hint = " (YAML reads unquoted yes, no, on, off, numbers and null as such; quote the key)"
    return f"keys must be strings, got {key!r}" + hint


def _type_rule(value: object) -> str:
    return (
        f"a {type(value).__name__} is not a JSON value (strings, numbers, booleans, null, "
        "lists and objects only)"
    )


def check(data: Any) -> None:
    """Raise :class:`DefinitionError` when :func:`problems` finds any."""
    found = problems(data)
    if found:
        raise DefinitionError(found)
