# (unit tests)
