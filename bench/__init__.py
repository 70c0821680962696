"""The claimedit benchmark (GitHub issue 4): ``python -m bench.run``. See ``bench/README.md``.

Not part of the test run: pytest collects ``tests/`` only.
"""
