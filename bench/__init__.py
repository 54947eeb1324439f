"""Benchmarks, run from the checkout's root as ``python -m bench.<name>`` (see bench/README.md);
:mod:`.common` is what they share."""
