"""How the command talks to people: result lines on stdout, ``error: ...`` lines on stderr,
both written without breaking a progress bar, and the library's own log noise turned down."""

from __future__ import annotations

import logging
import sys

from huggingface_hub.utils import logging as hub_logging
from tqdm.auto import tqdm


def err(message: str) -> None:
    """``error: ...`` on stderr, without breaking a progress bar."""
    tqdm.write(f"error: {message}", file=sys.stderr)


def out(line: str) -> None:
    """Print a result line on stdout without breaking a progress bar on stderr."""
    tqdm.write(line, file=sys.stdout)


def quiet_library_warnings() -> None:
    """Leave failure reports to the command: it prints each one itself, in one line."""
    # The CLI reports skipped files itself; avoid a second copy from the library's logger.
    logging.getLogger("videomae.inference").setLevel(logging.ERROR)
    # huggingface_hub logs each failed request; our CheckpointError says it in one line.
    hub_logging.set_verbosity_error()
