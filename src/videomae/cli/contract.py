"""The command line's contract, shared by ``videomae`` and ``python -m videomae.train.*``:
a failure that is the user's to fix is one ``error: ...`` line on stderr and exit status 2, never
a traceback (``VIDEOMAE_DEBUG=1`` shows it); Ctrl-C is exit status 130."""

from __future__ import annotations

import os
from collections.abc import Callable

from videomae.cli.output import err
from videomae.errors import CheckpointError, VideoDecodeError, VideoMAEError

__all__ = ["USER_ERRORS", "CLIError", "guarded"]


class CLIError(Exception):
    """A user-facing failure: printed as one ``error: ...`` line, exit status 2."""


# failures that are the user's to fix: one `error:` line and exit status 2, no traceback
USER_ERRORS: tuple[type[BaseException], ...] = (
    CLIError,
    VideoMAEError,
    CheckpointError,
    ImportError,  # an optional extra is missing: the message names the install command
    VideoDecodeError,
    OSError,
    ValueError,
)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if "\n" not in text else text.replace("\n", " | ")


def guarded(run: Callable[[], int]) -> int:
    """``run()``'s exit status, with the contract applied to what it raises."""
    debug = os.environ.get("VIDEOMAE_DEBUG", "") not in ("", "0")
    try:
        return run()
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
