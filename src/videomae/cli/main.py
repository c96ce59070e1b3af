"""``videomae`` entry point: runs one subcommand and turns the outcome into an exit status.

Exit status: 0 success; 1 the command ran but some inputs failed (each reported on stderr as
``error: PATH: reason``; the other inputs are still processed); 2 the command could not run
(bad arguments, a checkpoint that cannot be loaded such as a hub id without network, an
unreadable single input): one ``error: ...`` line on stderr, no traceback. Set
``VIDEOMAE_DEBUG=1`` to get the traceback instead.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from videomae.cli.commands import FORWARDED, run_forwarded
from videomae.cli.contract import guarded
from videomae.cli.parser import build_parser


def _run(args_list: list[str]) -> int:
    """Dispatch: forwarded training commands parse their own flags; the rest use ours."""
    if args_list and args_list[0] in FORWARDED:
        return run_forwarded(args_list[0], args_list[1:])
    parser = build_parser()
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    return int(args.func(args) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``videomae`` command; returns the exit status (see the module doc)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    return guarded(lambda: _run(args_list))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
