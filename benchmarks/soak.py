"""Run many expansions in a row on the real model and print resident memory and open files.

Run: ``.venv/bin/python benchmarks/soak.py [--expansions 200] [--branches 4] [--tokens 32]``.
Each expansion grows a child of the previous one (falling back to the root when the path
gets long), through the same Grower and SQLite session the app uses.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MINDGARDEN_HOME", tempfile.mkdtemp(prefix="mindgarden-soak-"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from process_stats import open_files, resident_mib  # noqa: E402
from mindgarden.core import paths  # noqa: E402
from mindgarden.core.personas import load_personas  # noqa: E402
from mindgarden.core.sampling import ExpansionPlan  # noqa: E402
from mindgarden.core.store import SessionStore  # noqa: E402
from mindgarden.engine.growth import Grower  # noqa: E402
from mindgarden.engine.llama_engine import LlamaEngine  # noqa: E402

MAX_DEPTH = 6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=paths.find_default_model())
    parser.add_argument("--expansions", type=int, default=200)
    parser.add_argument("--branches", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=32, help="max new tokens per branch")
    args = parser.parse_args()

    store = SessionStore()
    session = store.create_session("soak")
    session.tree.set_root("How might a small town make its older residents less lonely?")
    engine = LlamaEngine(args.model)
    grower = Grower(session, engine, load_personas())
    plan = ExpansionPlan(branches=args.branches, temperatures=(0.7, 1.0, 1.3),
                         personas=("neutral", "unhurried", "sceptical-expert"), max_new_tokens=args.tokens)

    print(f"{'expansions':>10} | {'nodes':>6} | {'RSS MiB':>8} | {'open fds':>8} | {'seconds':>8}")
    started = time.perf_counter()
    print(f"{0:>10} | {len(session.tree):>6} | {resident_mib():>8.1f} | {open_files():>8} | {0.0:>8.1f}")
    node_id = session.tree.root_id
    for count in range(1, args.expansions + 1):
        children = grower.grow(node_id, plan)
        node_id = children[0].id if session.tree.depth(children[0].id) < MAX_DEPTH else session.tree.root_id
        if count == args.expansions // 2 or count == args.expansions:
            print(f"{count:>10} | {len(session.tree):>6} | {resident_mib():>8.1f} | {open_files():>8} | "
                  f"{time.perf_counter() - started:>8.1f}")
    session.close()
    engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
