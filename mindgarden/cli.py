"""Command line: ``mindgarden`` opens the app; subcommands run headless work."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from mindgarden import __version__, cli_export, cli_models
from mindgarden.core import crashlog, paths
from mindgarden.core.errors import InvalidInputError, MindGardenError, ModelFileError
from mindgarden.core.personas import load_personas
from mindgarden.core.settings import DEFAULT_PERSONAS
from mindgarden.core.sampling import MAX_BRANCHES, ExpansionPlan, parse_temperatures
from mindgarden.core.store import Session, SessionStore
from mindgarden.core.tree import validate_idea

log = logging.getLogger(__name__)



def resolve_model_path(value: str | None) -> Path:
    """Return the model to load: the given path, or the bundled default."""
    if value:
        return Path(value).expanduser()
    found = paths.find_default_model()
    if found is None:
        searched = ", ".join(str(path) for path in paths.default_model_candidates())
        raise ModelFileError(
            f"The default model {paths.DEFAULT_MODEL_FILE} was not found (searched {searched}). "
            "Run `mindgarden fetch-model`, or pass --model PATH to a GGUF file."
        )
    return found


def load_engine(model: str | None, gpu_layers: int | None = None):
    from mindgarden.engine.gguf import read_gguf
    from mindgarden.engine.llama_engine import LlamaEngine

    path = resolve_model_path(model)
    read_gguf(path)
    return LlamaEngine(path, n_gpu_layers=gpu_layers)


def _branch_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"branch count {text!r} is not a whole number") from None
    if not 1 <= value <= MAX_BRANCHES:
        raise argparse.ArgumentTypeError(f"branch count {value} is out of range: choose 1 to {MAX_BRANCHES}")
    return value


def open_store() -> SessionStore:
    """Open the session database, telling the user when a damaged one was moved aside."""
    store = SessionStore()
    if store.recovered_from is not None:
        print(f"warning: the session database was damaged and has been moved to {store.recovered_from}; "
              "MindGarden started a new one.", file=sys.stderr)
        if store.salvaged:
            print(f"Recovered {len(store.salvaged)} sessions that were still readable: "
                  f"{', '.join(store.salvaged)}.", file=sys.stderr)
    return store


def _session_for(store: SessionStore, name: str) -> Session:
    return store.open_session(name)


def _find_node(session: Session, prefix: str) -> str:
    matches = [node.id for node in session.tree.nodes() if node.id.startswith(prefix)]
    if len(matches) != 1:
        raise InvalidInputError(
            f"Node {prefix!r} {'not found' if not matches else 'is ambiguous'} in session "
            f"{session.name!r}. `mindgarden show {session.name}` lists node ids."
        )
    return matches[0]


# -- commands ---------------------------------------------------------------------


def command_grow(args: argparse.Namespace) -> int:
    from mindgarden.engine.growth import Grower

    personas = load_personas()
    plan = ExpansionPlan(
        branches=args.branches,
        temperatures=parse_temperatures(args.temperatures),
        personas=tuple(args.personas.split(",")) if args.personas else DEFAULT_PERSONAS,
        max_new_tokens=args.max_tokens,
        seed=args.seed,
    )
    plan.validate()
    for name in plan.personas:
        if name not in personas:
            raise InvalidInputError(f"Persona state {name!r} not found. Available: {', '.join(personas)}.")

    idea = validate_idea(args.idea)
    if args.depth < 1:
        raise InvalidInputError(f"Depth {args.depth} is invalid: grow at least 1 level.")
    engine = load_engine(args.model, args.gpu_layers)
    store = open_store()
    session = store.create_session(store.unique_name(args.session or idea[:40]))
    session.tree.set_root(idea)
    grower = Grower(session, engine, personas)

    cancel = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())
    try:
        frontier = [session.tree.root_id]
        for level in range(args.depth):
            next_frontier = []
            for node_id in frontier:
                if cancel.is_set():
                    break
                children = grower.grow(node_id, plan, cancel)
                next_frontier.extend(child.id for child in children)
                print(f"level {level + 1}: grew {len(children)} branches from {node_id[:8]}", file=sys.stderr)
            frontier = next_frontier
    finally:
        signal.signal(signal.SIGINT, previous)
        session.close()
        engine.close()
    print(f"Session {session.name!r}: {len(session.tree)} nodes. Show it with: mindgarden show {session.name!r}")
    return 130 if cancel.is_set() else 0


def command_show(args: argparse.Namespace) -> int:
    store = open_store()
    session = _session_for(store, args.session)
    tree = session.tree
    for node in tree.nodes():
        depth = tree.depth(node.id)
        indent = "  " * depth
        if node.kind == "root":
            print(f"{node.id[:8]} {node.text}")
            continue
        marks = ""
        if node.starred:
            marks += "*"
        if node.pruned:
            marks += "x"
        if node.edited:
            marks += "e"
        state = node.finish_reason or "incomplete"
        temperature = node.temperature if node.temperature is not None else "-"
        suffix = "" if state in ("stop", "length") else f" ({state})"
        print(f"{indent}{node.id[:8]} [{node.persona} t={temperature}] {marks:<2} {node.first_line(100)}{suffix}")
        if args.full:
            for line in node.text.strip().splitlines():
                print(f"{indent}    {line}")
            if node.reasoning:
                print(f"{indent}    [reasoning hidden: {len(node.reasoning)} characters]")
    return 0


def command_mark(args: argparse.Namespace) -> int:
    store = open_store()
    session = _session_for(store, args.session)
    for prefix in args.nodes:
        node_id = _find_node(session, prefix)
        if args.command == "star":
            session.tree.set_starred(node_id, not args.undo)
        else:
            session.tree.set_pruned(node_id, not args.undo)
        print(f"{args.command}{' removed' if args.undo else ''}: {node_id[:8]}")
    session.close()
    return 0


def command_personas(args: argparse.Namespace) -> int:
    for persona in load_personas().values():
        print(f"{persona.name:<18} t={persona.temperature:<4} {persona.description}")
    return 0


def command_sessions(args: argparse.Namespace) -> int:
    import datetime

    store = open_store()
    for info in store.list_sessions():
        stamp = datetime.datetime.fromtimestamp(info.updated_at).strftime("%Y-%m-%d %H:%M")
        print(f"{stamp}  {info.node_count:>5} nodes  {info.name}")
    return 0


def command_fetch_model(args: argparse.Namespace) -> int:
    from mindgarden.provision import provision_default_model

    print(provision_default_model())
    return 0


def command_app(args: argparse.Namespace) -> int:
    from mindgarden.ui.app import run_app

    return run_app(model=args.model)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mindgarden",
        description="Grow branching thought trees from an idea with a local language model. "
                    "Without a command, opens the desktop app.")
    parser.add_argument("--version", action="version", version=f"mindgarden {__version__}")
    parser.add_argument("--model", help="GGUF model file to load (default: the bundled SmolLM2-135M)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to standard error")
    commands = parser.add_subparsers(dest="command")
    # --model may also follow the command; SUPPRESS keeps an absent one from hiding the global one.
    model_option = argparse.ArgumentParser(add_help=False)
    model_option.add_argument("--model", default=argparse.SUPPRESS,
                              help="GGUF model file to load (default: the bundled SmolLM2-135M)")

    grow = commands.add_parser("grow", help="grow a new session from an idea", parents=[model_option])
    grow.add_argument("idea", help="the idea or open question at the root")
    grow.add_argument("--branches", type=_branch_count, default=4, help="branches per expansion, 1 to 16 (default 4)")
    grow.add_argument("--depth", type=int, default=1, help="levels to grow below the root (default 1)")
    grow.add_argument("--personas", help="comma-separated persona states (see `mindgarden personas`; "
                                         f"default {','.join(DEFAULT_PERSONAS)})")
    grow.add_argument("--temperatures", default="0.7,1.2",
                      help="temperatures as a list (0.7,1.2) or a range with a count (0.6-1.4:5); default 0.7,1.2")
    grow.add_argument("--max-tokens", type=int, default=96, help="max new tokens per branch (default 96)")
    grow.add_argument("--seed", type=int, help="base seed; branch i uses seed + i")
    grow.add_argument("--gpu-layers", type=int, default=None, metavar="N",
                      help="layers to offload to the GPU (default: as many as fit in its free memory; 0: CPU only)")
    grow.add_argument("--session", help="session name (default: the start of the idea)")
    grow.set_defaults(handler=command_grow)

    show = commands.add_parser(
        "show", help="print a session's tree",
        description="Print a session's tree: node id, [persona t=temperature], marks (* starred, "
                    "x pruned, e edited) and the first line of each thought.")
    show.add_argument("session", help="session name or id (see `mindgarden sessions`)")
    show.add_argument("--full", action="store_true", help="print each thought's whole text")
    show.set_defaults(handler=command_show)

    for name, text in (("star", "star nodes (chosen in preference pairs)"),
                       ("prune", "prune nodes (rejected in preference pairs)")):
        mark = commands.add_parser(name, help=text)
        mark.add_argument("session", help="session name or id (see `mindgarden sessions`)")
        mark.add_argument("nodes", nargs="+", help="node ids or unique prefixes, as `show` prints them")
        mark.add_argument("--undo", action="store_true", help="remove the mark instead")
        mark.set_defaults(handler=command_mark)

    cli_export.register(commands)
    cli_models.register(commands)

    commands.add_parser("personas", help="list persona states").set_defaults(handler=command_personas)
    commands.add_parser("sessions", help="list sessions, recent first").set_defaults(handler=command_sessions)
    commands.add_parser("fetch-model", help="provision the bundled default model").set_defaults(
        handler=command_fetch_model)
    commands.add_parser("app", help="open the desktop app (the default)", parents=[model_option]).set_defaults(
        handler=command_app)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        logging.getLogger("mindgarden.llama_cpp").setLevel(logging.ERROR)
    handler = getattr(args, "handler", command_app)
    if handler is not command_app:
        previous = crashlog.take_previous_report()
        if previous is not None:
            print(f"note: an earlier MindGarden run crashed; its report is in {previous[0]}", file=sys.stderr)
        crashlog.enable()
    try:
        return handler(args)
    except MindGardenError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
