"""``videomae`` entry point: runs one subcommand and turns the outcome into an exit status.

Exit status: 0 success; 1 the command ran but some inputs failed (each reported on stderr as
``error: PATH: reason``; the other inputs are still processed); 2 the command could not run
(bad arguments, a checkpoint that cannot be loaded such as a hub id without network, an
unreadable single input): one ``error: ...`` line on stderr, no traceback. Set
``VIDEOMAE_DEBUG=1`` to get the traceback instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from videomae.cli.commands import FORWARDED, CLIError, run_forwarded
from videomae.cli.output import err
from videomae.cli.parser import build_parser
from videomae.errors import CheckpointError, VideoDecodeError

# failures that are the user's to fix: one `error:` line and exit status 2, no traceback
USER_ERRORS: tuple[type[BaseException], ...] = (
    CLIError,
    CheckpointError,
    ImportError,  # an optional extra is missing: the message names the install command
    VideoDecodeError,
    OSError,
    ValueError,
)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if "\n" not in text else text.replace("\n", " | ")


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
    debug = os.environ.get("VIDEOMAE_DEBUG", "") not in ("", "0")
    try:
        return _run(args_list)
    except SystemExit as exit_:  # argparse errors and --help, also from forwarded parsers
        code = exit_.code
        if code is None or isinstance(code, int):
            return int(code or 0)
        err(str(code))
        return 2
    except KeyboardInterrupt:
        err("interrupted")
        return 130
    except USER_ERRORS as exc:
        if debug:
            raise
        err(_one_line(exc))
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
