"""Outlines: Markdown nested lists, OPML 2.0 and GraphML of a thought tree."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

import networkx as nx
from test_export import curated_session

from mindgarden.core.export import export
from mindgarden.core.outline import render_graphml, render_markdown, render_opml
from mindgarden.core.personas import load_personas


def test_markdown_nests_by_depth():
    curated = curated_session()
    lines = render_markdown(curated.tree).splitlines()
    assert lines[0] == "- How can libraries stay relevant?"
    assert lines[1] == "  - Host repair cafés. *(starred)*"
    assert lines[2] == "    - Run seed libraries. *(starred, rank 1)*"
    assert "    - Lend telescopes and star charts. *(pruned, rank 3, edited)*" in lines
    assert "  - Partial tho *(starred, incomplete)*" in lines


def test_markdown_multiline_and_list_markers():
    curated = curated_session()
    curated.tree.edit_text(curated.ids["c2"], "Stay open late.\n- even on Sundays\n\n# not a heading")
    text = render_markdown(curated.tree)
    assert "    - Stay open late. *(edited)*\n      \\- even on Sundays\n\n      \\# not a heading\n" in text


def test_markdown_subtree_scope(tmp_path):
    curated = curated_session()
    out = tmp_path / "part.md"
    result = export(curated.tree, load_personas(), out, format="markdown", scope=f"subtree:{curated.ids['a6']}")
    assert out.read_text(encoding="utf-8").splitlines() == [
        "- Open at night. *(pruned)*",
        "  - Host late-night study halls. *(starred)*",
        "  - Close earlier. *(pruned)*",
    ]
    assert result.node_count == 3


def test_opml_structure(tmp_path):
    curated = curated_session()
    out = tmp_path / "garden.opml"
    export(curated.tree, load_personas(), out, format="opml", session_name="Libraries")
    document = ElementTree.parse(out).getroot()
    assert document.tag == "opml"
    assert document.get("version") == "2.0"
    assert document.find("head/title").text == "Libraries"
    assert document.find("head/dateCreated").text.endswith("GMT")
    top = document.find("body/outline")
    assert top.get("text") == "How can libraries stay relevant?"
    children = top.findall("outline")
    assert [child.get("text") for child in children][:2] == ["Host repair cafés.", "Lend tools."]
    assert children[0].get("starred") == "true"
    assert children[0].get("mindgardenId") == curated.ids["a1"]
    assert len(document.findall(".//outline")) == 16


def test_opml_keeps_newlines_and_drops_control_characters():
    curated = curated_session()
    curated.tree.edit_text(curated.ids["c2"], "Line one\nline two\x07")
    root = ElementTree.fromstring(render_opml(curated.tree, "t").encode("utf-8"))
    texts = [element.get("text") for element in root.iter("outline")]
    assert "Line one\nline two" in texts


def test_graphml_reads_back_with_scalars():
    curated = curated_session()
    graph = nx.parse_graphml(render_graphml(curated.tree))
    assert graph.number_of_nodes() == 16
    assert graph.number_of_edges() == 15
    node = graph.nodes[curated.ids["b4"]]
    assert node["text"] == "Lend telescopes and star charts."
    assert node["original_text"] == "Lend telescopes"
    assert node["rank"] == 3
    assert node["pruned"] is True
    assert node["sampler_temperature"] == 0.8
    assert "finish_reason" not in graph.nodes[curated.ids["a7"]]
    assert all(not isinstance(value, (dict, list)) for _, data in graph.nodes(data=True) for value in data.values())
    assert graph.has_edge(curated.ids["a1"], curated.ids["b4"])
