"""CityOS benchmark suite: `make bench` (= `python -m bench`). Not tests: no timing asserts.

Every benchmark measures our figure and a baseline in the same run, because on a noisy 2-core
machine the ratio is what means something. Results go to docs/benchmarks.md.
"""
