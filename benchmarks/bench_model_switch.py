"""Print resident memory before loading, after the first load and after switching models 10 times.

Run: ``.venv/bin/python benchmarks/bench_model_switch.py [--model PATH] [--switches 10]``.
The switches alternate between the model and a copy of it in a temporary folder, so each
load maps a different file, and each switch closes the previous engine first, as the app does.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("MINDGARDEN_HOME", tempfile.mkdtemp(prefix="mindgarden-switch-"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from process_stats import resident_mib  # noqa: E402
from mindgarden.core import paths  # noqa: E402
from mindgarden.core.sampling import SamplerSettings  # noqa: E402
from mindgarden.engine.llama_engine import LlamaEngine  # noqa: E402
from mindgarden.engine.types import BranchRequest  # noqa: E402

REQUEST = BranchRequest(({"role": "user", "content": "Name one use of a bridge."},), SamplerSettings(), 1, 16)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=paths.find_default_model())
    parser.add_argument("--switches", type=int, default=10)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / f"copy-{args.model.name}"
        shutil.copyfile(args.model, copy)
        files = [args.model, copy]

        print(f"{'moment':<24} | {'RSS MiB':>8}")
        print(f"{'before loading':<24} | {resident_mib():>8.1f}")
        engine = LlamaEngine(args.model)
        list(engine.expand([REQUEST] * 4))
        print(f"{'after the first load':<24} | {resident_mib():>8.1f}")
        for switch in range(1, args.switches + 1):
            engine.close()
            engine = LlamaEngine(files[switch % 2])
            list(engine.expand([REQUEST] * 4))
            if switch in (1, args.switches // 2, args.switches):
                print(f"{f'after {switch} switches':<24} | {resident_mib():>8.1f}")
        engine.close()
        print(f"{'after closing':<24} | {resident_mib():>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
