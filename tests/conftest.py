pytest_plugins = [
    "tests.fixtures.emulator",
    "tests.fixtures.app",
    "tests.fixtures.projects",
]
