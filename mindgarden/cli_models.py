"""Command line for the model library: list models found on this computer, add, remove, catalog."""

from __future__ import annotations

import argparse
from pathlib import Path


def _size(value: int) -> str:
    return f"{value / (1 << 30):.2f} GiB" if value >= 1 << 30 else f"{value / (1 << 20):.0f} MiB"


def command_models(args: argparse.Namespace) -> int:
    from mindgarden.engine import library

    if args.action == "add":
        entry = library.add_model(Path(args.path))
        print(f"Added {entry.name}: {entry.path}")
        return 0
    if args.action == "remove":
        library.remove_model(Path(args.path))
        print(f"Removed {args.path} from the list (the file itself is kept).")
        return 0
    if args.action == "catalog":
        from mindgarden.engine.download import load_catalog

        for item in load_catalog():
            print(f"{item.name:<36} {_size(item.size):>10}  {item.license:<12} {item.url}")
        return 0

    entries = library.discover()
    shown = [entry for entry in entries if args.all or entry.error is None]
    if not shown:
        print("No GGUF models found. Add one with `mindgarden models add PATH`.")
    for entry in shown:
        if entry.error is not None:
            print(f"{entry.name:<40} {entry.source:<12} unusable: {entry.error}")
            continue
        parameters = entry.size_label or (f"{entry.parameter_count / 1e9:.1f}B" if entry.parameter_count else "?")
        template = "chat" if entry.has_chat_template else "base"
        print(f"{entry.name:<40} {entry.source:<12} {entry.architecture or '?':<10} {parameters:>6} "
              f"{entry.quantization or '?':<8} {_size(entry.file_size):>10} ctx {entry.context_length or '?':<6} "
              f"{template:<4} {entry.license or '-':<12} {entry.path}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``models`` subcommand to an argparse subparsers object."""
    models = commands.add_parser(
        "models", help="list GGUF models on this computer (Ollama, LM Studio, GPT4All, Hugging Face cache)")
    models.add_argument("action", nargs="?", default="list", choices=("list", "add", "remove", "catalog"),
                        help="list (default), add PATH, remove PATH, or catalog of recommended downloads")
    models.add_argument("path", nargs="?", help="the GGUF file for add and remove")
    models.add_argument("--all", action="store_true", help="also list files that cannot be used, with the reason")
    models.set_defaults(handler=command_models)
