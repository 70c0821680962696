"""The claimedit benchmark: ``python -m bench.run``. See ``bench/README.md``.

Not part of the test run: pytest collects ``tests/`` only.
"""
