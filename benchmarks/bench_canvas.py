"""Time the garden canvas: layout and scene build of a 5,000-node tree, event-loop lateness while 16 branches stream.

Run: ``.venv/bin/python benchmarks/bench_canvas.py [--nodes 5000] [--tokens 48] [--model PATH]``.
The streaming part loads the bundled model; ``--no-stream`` skips it. Prints numbers, asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MINDGARDEN_HOME", tempfile.mkdtemp(prefix="mindgarden-bench-"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QElapsedTimer, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from mindgarden.core import paths  # noqa: E402
from mindgarden.core.layout import layout_thought_tree  # noqa: E402
from mindgarden.core.tree import ThoughtTree  # noqa: E402
from mindgarden.ui.card import CARD_HEIGHT, CARD_WIDTH  # noqa: E402
from mindgarden.ui.canvas import GardenCanvas  # noqa: E402

TICK_MS = 10


def synthetic_tree(count: int, seed: int = 7) -> ThoughtTree:
    """Build a tree of ``count`` nodes, each new node under a random earlier one with under 6 children."""
    rng = random.Random(seed)
    tree = ThoughtTree()
    root = tree.set_root("A synthetic idea")
    open_ids = [root.id]
    for index in range(1, count):
        parent_id = rng.choice(open_ids)
        child = tree.add_child(parent_id, text=f"Thought {index} " + "word " * rng.randint(3, 30),
                               finish_reason="stop", sampler={"temperature": rng.choice((0.7, 1.0, 1.3))},
                               uncertainty=rng.uniform(0.2, 3.0))
        if len(tree.graph.succ[parent_id]) >= 6:
            open_ids.remove(parent_id)
        open_ids.append(child.id)
    return tree


def time_layout_and_scene(count: int) -> None:
    tree = synthetic_tree(count)
    started = time.perf_counter()
    layout = layout_thought_tree(tree, lambda _node_id: (CARD_WIDTH, CARD_HEIGHT))
    layout_seconds = time.perf_counter() - started

    canvas = GardenCanvas()
    canvas.resize(1200, 800)
    started = time.perf_counter()
    canvas.tree_scene.set_tree(tree)
    scene_seconds = time.perf_counter() - started
    started = time.perf_counter()
    canvas.show()
    canvas.fit_to_view()
    canvas.viewport().grab()
    paint_seconds = time.perf_counter() - started
    print(f"{count} nodes: layout {layout_seconds * 1000:.1f} ms, scene build (with layout) "
          f"{scene_seconds * 1000:.1f} ms, first fitted paint {paint_seconds * 1000:.1f} ms, "
          f"drawing {layout.width:.0f} x {layout.height:.0f} px")
    canvas.tree_scene.set_tree(None)
    canvas.close()


def measure_streaming(app: QApplication, model: Path, tokens: int) -> None:
    from mindgarden.core.store import SessionStore
    from mindgarden.engine.llama_engine import LlamaEngine
    from mindgarden.ui.main_window import MainWindow

    engine = LlamaEngine(model)
    store = SessionStore()
    window = MainWindow(engine=engine, store=store)
    window.resize(1400, 900)
    window.show()
    window.panel.branches.setValue(16)
    window.panel.max_new_tokens.setValue(tokens)
    window.idea_entry.setPlainText("How could a small town make its older residents less lonely?")

    lateness: list[float] = []
    clock = QElapsedTimer()
    timer = QTimer()
    timer.setInterval(TICK_MS)

    def tick() -> None:
        lateness.append(max(0.0, clock.nsecsElapsed() / 1e6 - TICK_MS))
        clock.restart()
        if not window.runner.busy:
            timer.stop()
            app.quit()

    timer.timeout.connect(tick)
    frames_before = window.canvas.tree_scene.frame_count
    started = time.perf_counter()
    window.grow_idea()
    clock.start()
    timer.start()
    app.exec()
    seconds = time.perf_counter() - started
    frames = window.canvas.tree_scene.frame_count - frames_before

    ordered = sorted(lateness)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"16 branches x {tokens} tokens streamed in {seconds:.1f} s: {len(ordered)} ticks of a {TICK_MS} ms "
          f"QTimer, lateness p50 {statistics.median(ordered):.2f} ms, p99 {p99:.2f} ms, max {ordered[-1]:.2f} ms; "
          f"{frames} canvas frames ({frames / seconds:.1f} per second)")
    window.close()
    store.close()
    engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5000, help="nodes in the synthetic tree")
    parser.add_argument("--tokens", type=int, default=48, help="max new tokens per streamed branch")
    parser.add_argument("--model", type=Path, default=None, help="GGUF file; default: the bundled model")
    parser.add_argument("--no-stream", action="store_true", help="skip the streaming measurement")
    args = parser.parse_args()

    app = QApplication.instance() or QApplication([])
    time_layout_and_scene(args.nodes)
    if args.no_stream:
        return
    model = args.model or paths.find_default_model()
    if model is None:
        sys.exit("The bundled model is missing: run ./dev.sh setup, or pass --model PATH.")
    measure_streaming(app, model, args.tokens)


if __name__ == "__main__":
    main()
