"""Benchmarks behind ``qbox bench NAME``: each module here with ``register(subparsers)``
adds one.  They print figures and never assert on time (see ``bench/`` for peer harnesses)."""
