"""Command line for exports and imports: ``mindgarden export`` and ``mindgarden import``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mindgarden.core.export import FORMATS, PAIR_MODES, PROMPT_MODES, SCOPE_HELP, export
from mindgarden.core.export.options import DEFAULT_FORMAT, TRAINER_FORMATS
from mindgarden.core.errors import InvalidInputError
from mindgarden.core.personas import load_personas
from mindgarden.core.store import SessionStore


def _positive_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"pair cap {text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"pair cap {value} is invalid: use 1 or more")
    return value


def command_export(args: argparse.Namespace) -> int:
    store = _open_store()
    try:
        session = store.open_session(args.session)
        result = export(
            session.tree,
            load_personas(),
            Path(args.out),
            format=args.format,
            scope=args.scope,
            prompt_mode=args.prompt_mode,
            pair_mode=args.pairs,
            max_pairs_per_group=args.max_pairs_per_group,
            margin=args.margin,
            session_name=session.name,
        )
    finally:
        store.close()

    unit = "rows" if args.format in TRAINER_FORMATS else "nodes"
    print(f"Wrote {result.written_count} {unit} as {args.format} to {args.out}")
    for path in result.paths[1:]:
        print(f"  also wrote {path}")
    for reason, count in sorted(result.skipped.items()):
        print(f"  skipped {count}: {reason}")
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def command_import(args: argparse.Namespace) -> int:
    from mindgarden.core.interchange import import_session

    store = _open_store()
    try:
        session = import_session(Path(args.file), store, args.name)
    except InvalidInputError as error:
        raise InvalidInputError(
            f"Importing {args.file} failed: {error} Import reads files written by "
            "`mindgarden export SESSION --format json`."
        ) from error
    finally:
        store.close()
    print(f"Imported {len(session.tree)} nodes into session {session.name!r}. "
          f"Show it with: mindgarden show {session.name!r}")
    return 0


# One 20-way ranking would give 190 correlated pairs; the cap keeps one group from dominating.
DEFAULT_PAIRS_PER_GROUP = 15


def _open_store() -> SessionStore:
    from mindgarden.cli import open_store

    return open_store()


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``export`` and ``import`` subcommands to an argparse subparsers object."""
    export_parser = commands.add_parser(
        "export", help="export a session as preference data for a trainer, or as an outline")
    export_parser.add_argument("session", help="session name or id (see `mindgarden sessions`)")
    export_parser.add_argument("--out", required=True, help="output file; trainer formats add <stem>.meta.jsonl")
    export_parser.add_argument("--format", choices=FORMATS, default=DEFAULT_FORMAT,
                               help=f"output format (default {DEFAULT_FORMAT}); markdown, opml, graphml and "
                                    "json are outlines of the tree")
    export_parser.add_argument("--scope", default="session", help=f"what to export: {SCOPE_HELP}")
    export_parser.add_argument("--prompt-mode", choices=PROMPT_MODES, default="neutral",
                               help="neutral: prompt without persona priming; as-generated: with it")
    export_parser.add_argument("--pairs", choices=PAIR_MODES, default="all",
                               help="pairs from ranks: every ordered pair (all), or the best sibling against each of the others")
    export_parser.add_argument("--max-pairs-per-group", type=_positive_count, default=DEFAULT_PAIRS_PER_GROUP,
                               metavar="N", help=f"max pairs from one set of siblings (default {DEFAULT_PAIRS_PER_GROUP}, "
                                                 "all pairs of a 6-way ranking)")
    export_parser.add_argument("--margin", action="store_true",
                               help="add a margin column (rank difference) to trl-reward rows")
    export_parser.set_defaults(handler=command_export)

    import_parser = commands.add_parser("import", help="import a MindGarden JSON export as a new session")
    import_parser.add_argument("file", help="a file written by `mindgarden export --format json`")
    import_parser.add_argument("--name", help="session name (default: the exported name, made unique)")
    import_parser.set_defaults(handler=command_import)
