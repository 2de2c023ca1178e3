"""Programs the tests run as real subprocesses (to kill them with SIGKILL)."""
