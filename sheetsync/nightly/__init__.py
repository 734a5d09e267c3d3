"""The nightly rollup: the schedule, the run lock, and the state kept between runs."""
