"""The ``videomae`` command (also ``python -m videomae``): ``main`` runs it and owns the exit
codes, ``parser`` is the table of subcommands and flags, ``commands`` holds one function per
subcommand that calls one library function and prints its result."""
