"""``python -m videomae``: the same command as the ``videomae`` console script."""

from videomae.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
