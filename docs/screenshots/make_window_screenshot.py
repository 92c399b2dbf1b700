"""Grow a real tree (root, 4 thoughts, 4 below the first) and save a screenshot of the window."""
import logging
import sys

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

logging.basicConfig(level=logging.INFO)
app = QApplication(sys.argv)

from mindgarden.engine.llama_engine import LlamaEngine  # noqa: E402
from mindgarden.ui.main_window import MainWindow  # noqa: E402

engine = LlamaEngine("models/SmolLM2-135M-Instruct.Q4_1.gguf")
window = MainWindow(engine=engine)
window.resize(1600, 900)
window.show()
window.panel.max_new_tokens.setValue(int(sys.argv[1]) if len(sys.argv) > 1 else 40)


def wait_idle() -> None:
    loop = QEventLoop()
    timer = QTimer()
    timer.timeout.connect(lambda: loop.quit() if not window.runner.busy else None)
    timer.start(100)
    loop.exec()
    timer.stop()


window.idea_entry.setPlainText("What would a city designed for sleep look like?")
assert window.grow_idea()
wait_idle()
tree = window.session.tree
children = tree.children(tree.root_id)
window.select_node(children[0].id)
assert window.expand_selected()
wait_idle()
tree.set_starred(children[0].id, True)
tree.set_pruned(children[2].id, True)
grandchild = tree.children(children[0].id)[1]
window.select_node(grandchild.id)
for _ in range(5):
    app.processEvents()
window.grab().save("docs/screenshots/window.png")
logging.info("saved; %d nodes", len(tree))
window.close()
engine.close()
