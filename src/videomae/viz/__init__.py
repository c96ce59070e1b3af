"""Pictures people can look at: masked-autoencoder reconstructions (``reconstruction``),
training curves (``curves``) and confusion matrices (``confusion``). Import the submodule you
need; matplotlib (curves, confusion) is imported only when a plot is drawn."""
