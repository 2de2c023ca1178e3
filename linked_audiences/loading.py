"""Reading definitions from files, turning every parse problem into a :class:`Problem`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from linked_audiences.errors import DefinitionError, Problem

M = TypeVar("M", bound=BaseModel)

SUFFIXES = (".json", ".yaml", ".yml")


def read_document(path: str | Path) -> Any:
    """Parse a JSON or YAML file into plain data, chosen by the file's suffix."""
    file = Path(path)
    if file.suffix.lower() not in SUFFIXES:
        raise DefinitionError([Problem("$", "expected a .json, .yaml or .yml file", str(file))])
    text = file.read_text(encoding="utf-8")
    try:
        if file.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        reason = str(exc).replace("\n", " ")
        kind = file.suffix[1:].upper()
        raise DefinitionError([Problem("$", f"not valid {kind}: {reason}", str(file))]) from exc


def load_model(cls: type[M], path: str | Path) -> M:
    """Read ``path`` and validate it as ``cls``; every problem becomes one with its JSON path."""
    data = read_document(path)
    try:
        return validate_data(cls, data)
    except DefinitionError as exc:
        raise exc.with_source(str(path)) from None


def validate_data(cls: type[M], data: Any) -> M:
    """``cls.model_validate(data)``, with pydantic's errors as a :class:`DefinitionError`."""
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError(problems_from_validation_error(exc, data)) from None


def problems_from_validation_error(exc: ValidationError, data: Any) -> list[Problem]:
    """Map pydantic errors to JSON paths into ``data``, merging union alternatives per path."""
    by_path: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        nested = error.get("ctx", {}).get("error")
        if isinstance(nested, DefinitionError):
            prefix = _data_path(error["loc"], data, missing=False)
            for problem in nested.problems:
                by_path.setdefault(prefix + problem.path[1:], []).append(problem.rule)
            continue
        path = _data_path(error["loc"], data, missing=error["type"] == "missing")
        message = error["msg"].removeprefix("Value error, ")
        messages = by_path.setdefault(path, [])
        if message not in messages:
            messages.append(message)
    return [Problem(path, _merge(messages)) for path, messages in by_path.items()]


def _data_path(loc: Sequence[int | str], data: Any, *, missing: bool) -> str:
    """Keep only the parts of a pydantic ``loc`` that index into the input.

    pydantic adds union tags (``'trait'``, ``'int'``, ``'TraitReference'``) to locations;
    walking the input alongside drops them, so the path is one a user can follow in the file.
    A discriminated union's tag comes first and may equal a field name (the ``trait`` node
    has a ``trait`` field), so one part matching the node's own ``type`` is skipped per node.
    """
    out, node, tag_skipped = "$", data, False
    for i, part in enumerate(loc):
        if isinstance(node, Mapping) and not tag_skipped and part == node.get("type"):
            tag_skipped = True
        elif isinstance(node, Mapping) and isinstance(part, str) and part in node:
            out, node, tag_skipped = f"{out}.{part}", node[part], False
        elif isinstance(node, Sequence) and not isinstance(node, str) and isinstance(part, int):
            if 0 <= part < len(node):
                out, node, tag_skipped = f"{out}[{part}]", node[part], False
        elif missing and i == len(loc) - 1 and isinstance(part, str):
            out = f"{out}.{part}"
    return out


def _merge(messages: list[str]) -> str:
    """One sentence for a union's alternatives: "Input should be a valid boolean or string"."""
    prefix = "Input should be a valid "
    if len(messages) > 1 and all(m.startswith(prefix) for m in messages):
        kinds = [m.removeprefix(prefix) for m in messages]
        return prefix + ", ".join(kinds[:-1]) + " or " + kinds[-1]
    return "; ".join(messages)


def load_audience_folder(folder: str | Path, root: BaseModel | None = None) -> list[Any]:
    """Audiences of ``folder`` that ``root`` names, directly or through others.

    Only reachable files are validated, so one broken, unrelated definition in a shared folder
    does not stop another audience from compiling. Files that are not audience definitions
    (no ``condition``; a data graph kept alongside, say) are ignored. With no ``root``, every
    audience file of the folder is loaded.
    """
    from linked_audiences.conditions import Audience
    from linked_audiences.validation import audience_references

    by_key: dict[str, Path] = {}
    for file in sorted(Path(folder).iterdir()):
        if file.suffix.lower() not in SUFFIXES or not file.is_file():
            continue
        data = read_document(file)
        if isinstance(data, Mapping) and "condition" in data and isinstance(data.get("key"), str):
            by_key.setdefault(data["key"], file)
    if root is None:
        return [Audience.load(file) for file in by_key.values()]

    assert isinstance(root, Audience)
    loaded: dict[str, Audience] = {}
    pending = [key for _, key in audience_references(root.condition)]
    while pending:
        key = pending.pop()
        if key in loaded or key == root.key or key not in by_key:
            continue  # unknown keys are reported by validation, with the node's path
        loaded[key] = Audience.load(by_key[key])
        pending.extend(k for _, k in audience_references(loaded[key].condition))
    return list(loaded.values())
