"""The paper's test protocol: multi-clip x multi-crop evaluation of a video classifier.

``config`` (EvalConfig), ``protocol`` (:func:`~videomae.evaluate.protocol.evaluate`, which runs
the classifier through :mod:`videomae.inference.runner`, the engine classification and
embedding use too), ``metrics`` (top-k, mean per-class accuracy, confusion matrix), ``report``
(predictions CSV, confusion matrix, JSON summary), ``samples`` (labelled video lists) and
``checkpoint`` (:func:`~videomae.evaluate.checkpoint.evaluate_checkpoint`, the CLI's task).
"""
