"""codesearch's ML library: extraction, corpus, tokenization, model, training, indexing, evaluation.

It never imports Django; the web service calls it through a few plain functions.
"""
