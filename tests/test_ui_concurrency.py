"""Exports of a large session while branches stream and commit: nothing locked, nothing lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mindgarden.core import paths
from mindgarden.core.export import export
from mindgarden.core.personas import load_personas
from mindgarden.core.store import SessionStore
from mindgarden.engine.fake import ScriptedEngine
from mindgarden.ui.main_window import MainWindow

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints", "This plugin does not support raise"),
]

NODE_COUNT = 10_000


def build_large_session(name: str) -> None:
    session = SessionStore().create_session(name)
    tree = session.tree
    root = tree.set_root("How could a library serve a whole region?")
    parents = [root.id]
    for index in range(NODE_COUNT - 1):
        node = tree.add_child(parents[index // 8], text=f"thought {index}", finish_reason="stop",
                              sampler={"temperature": 1.0}, seed=index)
        parents.append(node.id)
    session.close()


def test_export_while_streaming(qtbot, home, tmp_path):
    build_large_session("region")
    window = MainWindow(engine=ScriptedEngine(words=[f"w{index}" for index in range(200)], step_seconds=0.01))
    qtbot.addWidget(window)
    window.open_session("region")
    window.select_node(window.session.tree.root_id)
    assert window.expand_selected()
    qtbot.waitUntil(lambda: any(child.text for child in window.session.tree.children(window.session.tree.root_id)
                                if not child.complete), timeout=10_000)

    reader = subprocess.Popen(
        [sys.executable, "-m", "mindgarden", "export", "region", "--format", "json", "--out", str(tmp_path / "cli.json")],
        env={**os.environ, paths.HOME_ENV: str(home)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    in_app = export(window.session.tree, load_personas(), tmp_path / "app.json", format="json")
    while reader.poll() is None:
        qtbot.wait(50)
    stderr = reader.stderr.read()
    assert reader.returncode == 0, stderr
    assert "locked" not in stderr

    qtbot.waitUntil(lambda: not window.runner.busy, timeout=30_000)
    window.close()
    tree = SessionStore().open_session("region").tree
    new_children = [child for child in tree.children(tree.root_id) if child.seed is not None and child.text.startswith("w")]
    assert len(tree) == NODE_COUNT + window.panel.branches.value()
    assert len(new_children) == window.panel.branches.value()
    assert all(child.complete for child in new_children)
    assert in_app.node_count >= NODE_COUNT
    assert len(json.loads((tmp_path / "cli.json").read_text())["nodes"]) >= NODE_COUNT
