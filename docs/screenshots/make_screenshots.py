"""Grab the garden canvas and the compare view on a scripted tree of about 50 nodes into docs/screenshots."""

from __future__ import annotations

import os
import random
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("MINDGARDEN_HOME", tempfile.mkdtemp(prefix="mindgarden-shots-"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PySide6.QtWidgets import QApplication  # noqa: E402

from mindgarden.engine.fake import ScriptedEngine  # noqa: E402
from mindgarden.ui.main_window import MainWindow  # noqa: E402

FOLDER = Path(__file__).resolve().parent
WORDS = "a park gives the city a place to breathe and people a reason to slow down".split()


def wait_idle(app: QApplication, window: MainWindow) -> None:
    while window.runner.busy:
        app.processEvents()


def main() -> None:
    app = QApplication.instance() or QApplication([])
    window = MainWindow(engine=ScriptedEngine(words=WORDS))
    window.resize(1800, 1000)
    window.show()
    window.idea_entry.setPlainText("Why do cities have parks?")
    window.grow_idea()
    wait_idle(app, window)
    tree = window.session.tree
    rng = random.Random(3)
    for child in tree.children(tree.root_id):
        window.select_node(child.id)
        window.expand_selected()
        wait_idle(app, window)
    for grandchild in tree.children(tree.children(tree.root_id)[1].id)[:3] + tree.children(tree.children(tree.root_id)[0].id)[:2]:
        window.select_node(grandchild.id)
        window.expand_selected()
        wait_idle(app, window)
    for node in list(tree.nodes())[1:]:
        tree.update(node.id, uncertainty=rng.uniform(0.3, 3.0))
    first, second, third, _fourth = tree.children(tree.root_id)
    window.set_starred(first.id, True)
    window.set_pruned(third.id, True)
    window.set_rank(first.id, 1)
    window.set_rank(second.id, 1)
    window.canvas.tree_scene.flush()
    window.select_node(tree.children(second.id)[0].id)
    window.show_garden()
    window.views.parentWidget().setSizes([1250, 320, 230])
    app.processEvents()
    # A fitted 41-node tree is too small to read, so the shot zooms to the selected branch.
    window.canvas.resetTransform()
    window.canvas.scale(0.55, 0.55)
    window.canvas.centerOn(window.canvas.tree_scene.cards[second.id])
    app.processEvents()
    window.grab().save(str(FOLDER / "canvas.png"))
    print(f"canvas.png: {len(tree)} nodes")

    window.select_node(second.id)
    window.show_compare()
    app.processEvents()
    window.grab().save(str(FOLDER / "compare.png"))
    window.compare.reveal.setChecked(True)
    app.processEvents()
    window.grab().save(str(FOLDER / "compare-revealed.png"))
    window.close()


if __name__ == "__main__":
    main()
