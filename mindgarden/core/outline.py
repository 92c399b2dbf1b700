"""Outlines of a thought tree for other tools: Markdown nested lists, OPML 2.0 and GraphML."""

from __future__ import annotations

import email.utils
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from typing import Any

import networkx as nx

from mindgarden.core.tree import Node, ThoughtTree

# Characters XML 1.0 cannot carry, even escaped; model output occasionally contains them.
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# Line starts that Markdown would read as a heading, list item, quote or rule inside a list item.
MARKDOWN_BLOCK_START = re.compile(r"^(\s*)([-+*>#]|\d+[.)])")

def xml_safe(text: str) -> str:
    """Return ``text`` without the characters XML 1.0 forbids."""
    # NOTE: removed control characters do not come back when the outline is read again.
    return XML_INVALID.sub("", text)


def walk(tree: ThoughtTree, top_id: str, node_ids: frozenset[str] | set[str] | None = None) -> Iterator[tuple[Node, int]]:
    """Yield (node, depth below ``top_id``) depth-first, siblings by position, limited to ``node_ids``."""
    stack = [(top_id, 0)]
    while stack:
        node_id, depth = stack.pop()
        yield tree.node(node_id), depth
        children = [child for child in tree.children_ids(node_id) if node_ids is None or child in node_ids]
        stack.extend((child, depth + 1) for child in reversed(children))


def _marks(node: Node) -> list[str]:
    marks = []
    if node.starred:
        marks.append("starred")
    if node.pruned:
        marks.append("pruned")
    if node.rank is not None:
        marks.append(f"rank {node.rank}")
    if node.edited:
        marks.append("edited")
    if not node.complete:
        marks.append("incomplete")
    return marks


def _markdown_line(line: str) -> str:
    return MARKDOWN_BLOCK_START.sub(lambda match: match.group(1) + "\\" + match.group(2), line, count=1)


def render_markdown(tree: ThoughtTree, top_id: str | None = None,
                    node_ids: frozenset[str] | set[str] | None = None) -> str:
    """Render the tree below ``top_id`` (default: the root) as a Markdown nested list.

    Each node is one list item, two spaces deeper per level. Stars, prunes, ranks, edits
    and incomplete branches follow the text in italics. Further lines of a multi-line
    thought are indented under their item.
    """
    top_id = top_id or tree.root_id
    lines = []
    for node, depth in walk(tree, top_id, node_ids):
        indent = "  " * depth
        text_lines = [_markdown_line(line) for line in node.text.strip().splitlines()] or ["*(empty)*"]
        marks = _marks(node)
        suffix = f" *({', '.join(marks)})*" if marks else ""
        lines.append(f"{indent}- {text_lines[0]}{suffix}")
        for extra in text_lines[1:]:
            lines.append(f"{indent}  {extra}" if extra.strip() else "")
    return "\n".join(lines) + "\n"


def _opml_attributes(node: Node) -> dict[str, str]:
    attributes = {
        "text": xml_safe(node.text.strip()),
        "created": email.utils.formatdate(node.created_at, usegmt=True),
        "mindgardenId": node.id,
        "kind": node.kind,
        "persona": node.persona,
    }
    if node.temperature is not None:
        attributes["temperature"] = repr(float(node.temperature))
    if node.starred:
        attributes["starred"] = "true"
    if node.pruned:
        attributes["pruned"] = "true"
    if node.rank is not None:
        attributes["rank"] = str(node.rank)
    return attributes


def render_opml(tree: ThoughtTree, title: str, top_id: str | None = None,
                node_ids: frozenset[str] | set[str] | None = None) -> str:
    """Render the tree below ``top_id`` as an OPML 2.0 document.

    Every outline element has the required ``text`` attribute and the OPML 2.0
    ``created`` date (RFC 822). The other attributes are MindGarden's own, which OPML
    2.0 allows on outline elements.
    """
    top_id = top_id or tree.root_id
    opml = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(opml, "head")
    ElementTree.SubElement(head, "title").text = xml_safe(title)
    ElementTree.SubElement(head, "dateCreated").text = email.utils.formatdate(tree.node(top_id).created_at,
                                                                             usegmt=True)
    body = ElementTree.SubElement(opml, "body")

    parents: list[ElementTree.Element] = [body]
    for node, depth in walk(tree, top_id, node_ids):
        del parents[depth + 1:]
        element = ElementTree.SubElement(parents[depth], "outline", _opml_attributes(node))
        parents.append(element)
    ElementTree.indent(opml)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(opml, encoding="unicode") + "\n"


def graphml_attributes(node: Node) -> dict[str, Any]:
    """Return a node's fields as GraphML scalars: None left out, the sampler dict flattened.

    GraphML has no null and no nested values, so a missing attribute means None, and
    ``sampler`` becomes ``sampler_<name>`` keys. Sampler numbers are written as floats so
    each key has one GraphML type across nodes.
    """
    attributes: dict[str, Any] = {}
    for name, value in node.to_dict().items():
        if name == "sampler":
            for key, setting in sorted(value.items()):
                if isinstance(setting, bool) or isinstance(setting, str):
                    attributes[f"sampler_{key}"] = setting
                elif isinstance(setting, (int, float)):
                    attributes[f"sampler_{key}"] = float(setting)
            continue
        if value is None:
            continue
        attributes[name] = xml_safe(value) if isinstance(value, str) else value
    return attributes


def render_graphml(tree: ThoughtTree, node_ids: frozenset[str] | set[str] | None = None) -> str:
    """Render the tree as GraphML through networkx: one node per thought, edges parent to child."""
    graph = nx.DiGraph()
    for node in tree.nodes():
        if node_ids is not None and node.id not in node_ids:
            continue
        graph.add_node(node.id, **graphml_attributes(node))
        if node.parent_id is not None and node.parent_id in graph:
            graph.add_edge(node.parent_id, node.id)
    return "\n".join(nx.generate_graphml(graph, encoding="utf-8", prettyprint=True)) + "\n"
