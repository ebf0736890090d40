"""The Setup page's longer tooltips."""

HIDDEN_TIP = "Widths of hidden ReLU layers between pooling and output, e.g. 128 or 256,64."
CLASS_WEIGHTS_TIP = (
    "How much each class counts in the training loss. none: every document alike. "
    "balanced: rare classes count more, n / (classes × count) on the training split "
    "(multi-label: negatives / positives of each label); helps macro-F1 on imbalanced data. "
    "custom: the {label = weight} table of a loaded setup file (edit it there). "
    "The validation loss stays unweighted."
)
WEIGHTING_TIP = (
    "idf: each row (word, bigram, character n-gram) counts in the document's vector by its "
    "inverse document frequency on the training split, as in TF-IDF, so rare telling "
    "features outweigh common ones. Needs mean, sum or sqrtn pooling."
)
MODEL_KIND_TIP = (
    "auto: train the embedding model, then fit a linear model (one table column per class, "
    "tf-idf weighted bag, solved by liblinear) on the same features, and keep the one "
    "better on the validation split. embedding: only the network set here. linear: only "
    "the linear model (no epochs)."
)
POOLING_TIP = (
    "How a document's rows become one vector. mean: fastText's average; sum; sqrtn: the "
    "sum over the square root of the (weighted) count, an L2-normalised bag; max."
)
