"""`videomae demo --study`: the paper's three findings in miniature (masking ratio and
strategy, labelled-set size, pre-training data), as tables and one figure.

``cells`` is the grid as data, ``data`` the videos on disk, ``probe`` the linear probe,
``jobs`` the units of work and how they run side by side, ``tables`` and ``figure`` the
results, ``run`` the whole study.
"""
