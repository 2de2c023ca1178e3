"""Real warehouse engines started by the tests themselves."""
