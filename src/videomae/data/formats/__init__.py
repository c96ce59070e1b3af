"""Dataset annotation formats as the benchmarks distribute them (UCF101, HMDB51, Kinetics,
Something-Something V2), one module each, plus :mod:`.detect` which tells them apart.

Each format module has ``looks_like(path, head) -> bool`` and
``read(path, root, label_file, subset) -> Annotations``; :func:`videomae.data.lists.load_samples`
is the one reader that calls them.
"""
