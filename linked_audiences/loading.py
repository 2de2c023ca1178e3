"""Reading definitions from files, turning every parse problem into a :class:`Problem`."""

from __future__ import annotations

import codecs
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from linked_audiences import documents
from linked_audiences.errors import DefinitionError, Problem, path_part

M = TypeVar("M", bound=BaseModel)

SUFFIXES = (".json", ".yaml", ".yml")


def read_document(path: str | Path) -> Any:
    """Parse a JSON or YAML file (chosen by its suffix) into plain JSON data.

    Every way a file can be unusable — missing, unreadable, a folder, a FIFO or device, larger
    than :data:`~linked_audiences.documents.MAX_FILE_BYTES`, not UTF-8, not valid JSON/YAML,
    or holding data no definition may hold — is a :class:`DefinitionError` naming the file.
    """
    file = Path(path)
    if file.suffix.lower() not in SUFFIXES:
        raise _file_error(file, "expected a .json, .yaml or .yml file")
    text = decode(read_bytes(file), file)
    kind = file.suffix[1:].upper()
    try:
        data = documents.parse_json(text) if kind == "JSON" else documents.parse_yaml(text)
    except RecursionError:
        raise _file_error(file, f"nested more than {documents.MAX_NESTING} levels deep") from None
    except (ValueError, yaml.YAMLError) as exc:  # JSONDecodeError is a ValueError
        raise _file_error(file, f"not valid {kind}: {' '.join(str(exc).split())}") from None
    found = documents.problems(data)
    if found:
        raise DefinitionError(found).with_source(str(file))
    return data


def read_bytes(file: Path) -> bytes:
    """At most ``MAX_FILE_BYTES + 1`` bytes of a regular file (so ``/dev/zero`` cannot hang)."""
    try:
        if not stat.S_ISREG(file.stat().st_mode):
            kind = "a folder" if file.is_dir() else "not a regular file"
            raise _file_error(file, f"cannot read a definition from it: it is {kind}")
        with file.open("rb") as handle:
            data = handle.read(documents.MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise _file_error(file, f"cannot read it: {exc.strerror or exc}") from None
    if len(data) > documents.MAX_FILE_BYTES:
        limit = documents.MAX_FILE_BYTES // (1024 * 1024)
        raise _file_error(file, f"larger than {limit} MB; a definition is at most that")
    return data


def decode(data: bytes, file: Path) -> str:
    """UTF-8 text (a leading byte-order mark is allowed); anything else is a definition error."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _file_error(file, "the file is UTF-16 text; save it as UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _file_error(
            file, f"not UTF-8 text (byte {exc.start} cannot be decoded); save it as UTF-8"
        ) from None


def _file_error(file: Path, rule: str) -> DefinitionError:
    return DefinitionError([Problem("$", rule, str(file))])


def load_model(cls: type[M], path: str | Path) -> M:
    """Read ``path`` and validate it as ``cls``; every problem becomes one with its JSON path."""
    data = read_document(path)
    try:
        return validate_data(cls, data, checked=True)
    except DefinitionError as exc:
        raise exc.with_source(str(path)) from None


def validate_data(cls: type[M], data: Any, *, checked: bool = False) -> M:
    """``cls.model_validate(data)``, with pydantic's errors as a :class:`DefinitionError`.

    ``checked``: ``data`` came from :func:`read_document`, which already walked it for
    values no definition may hold; the models then skip their own walk.
    """
    try:
        return cls.model_validate(data, context={documents.CHECKED: True} if checked else None)
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
            out, node, tag_skipped = out + path_part(part), node[part], False
        elif isinstance(node, Sequence) and not isinstance(node, str) and isinstance(part, int):
            if 0 <= part < len(node):
                out, node, tag_skipped = f"{out}[{part}]", node[part], False
        elif missing and i == len(loc) - 1 and isinstance(part, str):
            out += path_part(part)
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

    Only reachable files can fail, so one broken, unrelated definition in a shared folder
    does not stop another audience from compiling: unreadable or invalid files are skipped
    unless the audience needs a key that only they could define (then their problems are the
    answer, not "unknown audience"). Files that are not audience definitions (no
    ``condition``; a data graph kept alongside, say) are ignored. With no ``root``, every
    audience file of the folder is loaded and every broken file is an error.
    """
    from linked_audiences.conditions import Audience
    from linked_audiences.validation import audience_references

    by_key, broken = _index_folder(Path(folder))
    if root is None:
        problems = [p for exc in broken.values() for p in exc.problems]
        problems += _repeated_keys(by_key)
        if problems:
            raise DefinitionError(problems)
        return [_audience(*files[0]) for files in by_key.values()]

    assert isinstance(root, Audience)
    loaded: dict[str, Audience] = {}
    problems = []
    pending: list[tuple[str, str, str | None]]
    pending = [(path, key, None) for path, key in audience_references(root.condition)]
    while pending:
        path, key, source = pending.pop()
        if key in loaded or key == root.key:
            continue
        files = by_key.get(key, [])
        if len(files) != 1:
            problems += _missing_or_repeated(f"{path}.key", key, source, files, broken)
            continue
        try:
            loaded[key] = _audience(*files[0])
        except DefinitionError as exc:
            problems += exc.problems
            continue
        pending += [
            (p, k, f"audience {key!r}") for p, k in audience_references(loaded[key].condition)
        ]
    if problems:
        raise DefinitionError(problems)
    return list(loaded.values())


_Files = dict[str, list[tuple[Path, Any]]]


def _index_folder(folder: Path) -> tuple[_Files, dict[Path, DefinitionError]]:
    """Audience files by key (with their data), and the files that could not be read."""
    if not folder.is_dir():
        rule = "not a folder of audience definitions" if folder.exists() else "no such folder"
        raise _file_error(folder, rule)
    try:
        files = sorted(folder.iterdir())
    except OSError as exc:
        raise _file_error(folder, f"cannot list it: {exc.strerror or exc}") from None
    by_key: _Files = {}
    broken: dict[Path, DefinitionError] = {}
    for file in files:
        if file.suffix.lower() not in SUFFIXES or not file.is_file():
            continue
        try:
            data = read_document(file)
        except DefinitionError as exc:
            broken[file] = exc
            continue
        if isinstance(data, Mapping) and "condition" in data and isinstance(data.get("key"), str):
            by_key.setdefault(data["key"], []).append((file, data))
    return by_key, broken


def _audience(file: Path, data: Any) -> Any:
    from linked_audiences.conditions import Audience

    try:
        return validate_data(Audience, data, checked=True)
    except DefinitionError as exc:
        raise exc.with_source(str(file)) from None


def _repeated_keys(by_key: _Files) -> list[Problem]:
    return [
        Problem("$.key", f"audience key {key!r} is also defined in {files[0][0]}", str(file))
        for key, files in by_key.items()
        for file, _ in files[1:]
    ]


def _missing_or_repeated(
    path: str,
    key: str,
    source: str | None,
    files: list[tuple[Path, Any]],
    broken: dict[Path, DefinitionError],
) -> list[Problem]:
    """Why ``key`` does not name exactly one audience; nothing when validation says it better."""
    if len(files) > 1:
        names = ", ".join(str(f) for f, _ in files)
        return [Problem(path, f"audience key {key!r} is defined by several files: {names}", source)]
    if not broken:
        return []  # validation reports the unknown key, with the node's path
    named = [f for f in broken if f.stem == key]
    suspects = named or list(broken)
    listed = ", ".join(f.name for f in suspects[:3]) + (", …" if len(suspects) > 3 else "")
    rule = f"unknown audience {key!r}; {listed} could define it but cannot be read"
    return [Problem(path, rule, source), *(p for f in named for p in broken[f].problems)]
