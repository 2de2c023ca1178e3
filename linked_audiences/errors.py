"""Errors a user can act on: every one names where the problem is and which rule it breaks."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

_SIMPLE_KEY = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Problem:
    """One broken rule in a definition.

    ``path`` is a JSONPath into the definition (``$.condition.conditions[1].value``) so that a
    user can find the node in an editor; ``source`` names the file or audience it came from
    when several definitions are checked together.
    """

    path: str
    rule: str
    source: str | None = None

    def __str__(self) -> str:
        """One line, whatever the definition held: control, line-separator and bidi
        characters (from file names, keys or values) are written as escapes."""
        where = f"{self.source}: {self.path}" if self.source else self.path
        return one_line(f"{where}: {self.rule}")


def one_line(text: str) -> str:
    """``text`` with every character that could break or reorder a terminal line escaped."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == " " else _escape(c) for c in text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\U{code:08x}" if code > 0xFFFF else f"\\u{code:04x}"


class DefinitionError(ValueError):
    """A data graph or audience breaks one or more definition rules.

    All problems found are reported together, so one edit-and-retry cycle can fix them all.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("DefinitionError needs at least one problem")
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def with_source(self, source: str) -> DefinitionError:
        """The same problems attributed to ``source`` (a file name) where none is set yet."""
        return DefinitionError(
            [p if p.source else Problem(p.path, p.rule, source) for p in self.problems]
        )


def json_path(*parts: str | int) -> str:
    """Render path parts as JSONPath: ``json_path("condition", "conditions", 2)``."""
    out = "$"
    for part in parts:
        out += path_part(part)
    return out


def path_part(part: str | int) -> str:
    """``[2]``, ``.name`` or, for a key that is not a plain name, ``["a b"]``."""
    if isinstance(part, int):
        return f"[{part}]"
    if _SIMPLE_KEY.fullmatch(part):
        return f".{part}"
    return f"[{json.dumps(part, ensure_ascii=False)}]"


class UnsupportedFeature(NotImplementedError):
    """A warehouse cannot express something the definition asks for.

    Raised at compile time, before any SQL runs, with a hint the user can act on.
    """

    def __init__(self, dialect: str, feature: str, hint: str = "") -> None:
        self.dialect, self.feature, self.hint = dialect, feature, hint
        message = f"{dialect} does not support {feature}"
        super().__init__(f"{message}; {hint}" if hint else message)
