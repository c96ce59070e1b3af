"""``python -m videomae``: the same command as the ``videomae`` console script."""

from videomae.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
