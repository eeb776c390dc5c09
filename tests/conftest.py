"""pytester runs the README's pytest-plugin example as a user's test session would."""

pytest_plugins = ("pytester",)
