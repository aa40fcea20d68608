"""codesearch's ML library: extraction, corpus, tokenization, model, training, indexing, evaluation.

It never imports Django; the web service calls it through a few plain functions.
"""
import os

# bm25s (evaluate.py, index.py) imports JAX when it is installed and runs a top-k with it, and JAX then
# takes 75% of the GPU's memory for itself: on an H100 a second training run beside the first failed
# with CUDA out of memory. BM25 needs no GPU, so JAX stays on the CPU unless the user chose otherwise.
os.environ.setdefault("JAX_PLATFORMS", "cpu")
