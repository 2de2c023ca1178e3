"""``la.consumers``: which audiences would change if this one did.

Before editing or deleting an audience, an analyst needs the audiences whose definitions
name it — directly, or through an audience that names it — since their members change with
it. Definitions only: nothing is read from a warehouse.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from linked_audiences.conditions import Audience
from linked_audiences.validation import audience_references


@dataclass(frozen=True)
class Consumer:
    key: str
    name: str
    #: Whether its definition names the audience itself (else through ``via``).
    direct: bool
    #: The chain of keys from this consumer down to the audience, both ends included.
    chain: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "direct": self.direct,
            "chain": list(self.chain),
        }


@dataclass(frozen=True)
class Consumers:
    key: str
    #: Direct consumers first, then by distance, then by key.
    consumers: tuple[Consumer, ...]

    @property
    def direct(self) -> list[str]:
        return [c.key for c in self.consumers if c.direct]

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.consumers]

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "consumers": [c.to_dict() for c in self.consumers]}


def consumers(key: str, audiences: Sequence[Audience]) -> Consumers:
    """The audiences among ``audiences`` whose definitions name ``key``, directly or through
    others; each with the shortest chain of names that leads to it."""
    by_key = {a.key: a for a in audiences}
    named_by: dict[str, set[str]] = {}
    for audience in audiences:
        for _, named in audience_references(audience.condition):
            named_by.setdefault(named, set()).add(audience.key)
    found: dict[str, tuple[str, ...]] = {}
    queue: deque[tuple[str, tuple[str, ...]]] = deque([(key, (key,))])
    while queue:  # breadth first: each consumer's chain is a shortest one
        current, chain = queue.popleft()
        for consumer in sorted(named_by.get(current, ())):
            if consumer in found or consumer == key:
                continue
            found[consumer] = (consumer, *chain)
            queue.append((consumer, found[consumer]))
    ordered = sorted(found.items(), key=lambda item: (len(item[1]), item[0]))
    return Consumers(
        key,
        tuple(Consumer(k, by_key[k].name, len(chain) == 2, chain) for k, chain in ordered),
    )
