"""The fingerprint each run records of the definition it ran (the run log shows it).

It is a SHA-256 of canonical JSON (sorted keys, no spaces) of the audience, the audiences
it refers to (directly or through others) and the whole data graph, each as validated and
without fields left at their defaults — so writing a default out, reordering keys or
upgrading the library does not change it, while any edit that can change what the
audience matches does. The whole graph is included because the parts an audience depends
on are more than the nodes it names (profile traits, identifiers, parent relationships);
an unrelated graph edit changes the fingerprint too, which errs on the side of telling.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from linked_audiences.conditions import Audience, AudienceCondition, walk
from linked_audiences.graph import DataGraph


def definition_fingerprint(
    audience: Audience, graph: DataGraph, audiences: Sequence[Audience] = ()
) -> str:
    known = {a.key: a for a in audiences}
    referenced: dict[str, Audience] = {}
    pending = [audience]
    while pending:
        for _, node in walk(pending.pop().condition):
            if isinstance(node, AudienceCondition) and node.key not in referenced:
                other = known.get(node.key)
                if other is not None and other.key != audience.key:
                    referenced[other.key] = other
                    pending.append(other)
    document = {
        "audience": audience.model_dump(mode="json", exclude_defaults=True),
        "audiences": [
            referenced[k].model_dump(mode="json", exclude_defaults=True) for k in sorted(referenced)
        ],
        "graph": graph.model_dump(mode="json", exclude_defaults=True),
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
