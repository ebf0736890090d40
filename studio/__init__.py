"""Embedding Studio: train text classifiers with an embedding layer, from a window or a terminal."""

__version__ = "0.1.0"
