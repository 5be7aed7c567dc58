"""Scripts that measure the app's algorithms on generated data; run with `python -m`."""
