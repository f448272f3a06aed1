"""Diagrams of the machines, rendered from the same declarative table."""

from __future__ import annotations

from collections import defaultdict

from dialstate.engine.lifecycle import ENTRY_STATES
from dialstate.engine.machine import mode_rules
from dialstate.engine.states import ContactState, DialMode, StateKind

#: Administrative moves that exist from (nearly) every state; drawn as a note, not as
#: arrows, so the lifecycle stays readable.
_ADMIN = ("cancel", "delete", "update_phone", "blacklist")


def _edges(mode: DialMode) -> dict[tuple[ContactState, ContactState], list[str]]:
    edges: dict[tuple[ContactState, ContactState], list[str]] = defaultdict(list)
    for trigger, src, dest in mode_rules(mode):
        if trigger in _ADMIN and not (trigger == "update_phone" and src is ContactState.INVALID_RECORD):
            continue
        if trigger not in edges[(src, dest)]:
            edges[(src, dest)].append(trigger)
    return edges


def mermaid(mode: DialMode | str) -> str:
    """A Mermaid `stateDiagram-v2` of one dial mode."""
    mode = DialMode(mode)
    lines = ["stateDiagram-v2"]
    for state in ENTRY_STATES:
        lines.append(f"    [*] --> {state.value}: add")
    for (src, dest), triggers in sorted(_edges(mode).items(), key=lambda kv: (kv[0][0].value, kv[0][1].value)):
        lines.append(f"    {src.value} --> {dest.value}: {', '.join(triggers)}")
    finals = sorted({d for (_, d) in _edges(mode) if d.kind is StateKind.FINAL} | {ContactState.CANCELED_BY_ADMIN},
                    key=lambda s: s.value)
    for state in finals:
        if state is not ContactState.DELETED:
            lines.append(f"    {state.value} --> [*]")
    lines.append("    note right of canceled_by_admin: cancel from any open or parked state; delete from any state")
    return "\n".join(lines) + "\n"


def dot(mode: DialMode | str) -> str:
    """The same diagram in Graphviz DOT."""
    mode = DialMode(mode)
    lines = [f'digraph "{mode.value}" {{', "    rankdir=LR;", '    node [shape=box, style=rounded];']
    for state in ENTRY_STATES:
        lines.append(f'    start -> "{state.value}" [label="add"];')
    lines.insert(3, '    start [shape=point];')
    for (src, dest), triggers in sorted(_edges(mode).items(), key=lambda kv: (kv[0][0].value, kv[0][1].value)):
        lines.append(f'    "{src.value}" -> "{dest.value}" [label="{", ".join(triggers)}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def sync_readme(text: str) -> str:
    """`text` with every `<!-- diagram:MODE -->` block re-rendered from the table."""
    import re

    def render(match: re.Match[str]) -> str:
        mode = match.group(1)
        return f"<!-- diagram:{mode} -->\n```mermaid\n{mermaid(mode)}```\n<!-- /diagram:{mode} -->"

    return re.sub(r"<!-- diagram:(\w+) -->.*?<!-- /diagram:\1 -->", render, text, flags=re.S)


if __name__ == "__main__":  # python -m dialstate.engine.diagram README.md
    import sys
    from pathlib import Path

    for name in sys.argv[1:]:
        path = Path(name)
        path.write_text(sync_readme(path.read_text(encoding="utf-8")), encoding="utf-8")
