"""The output side: a backend-neutral model of the managed tabs, and the code that builds it."""
