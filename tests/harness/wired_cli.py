"""``cli.main`` with this branch's additions registered (``send-test``, the alert options of
``run``) whether or not ``cli.build_parser`` registers them yet: each is added only when
missing, so the tests run the same before and after the wiring in ``cli.py``."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from linked_audiences import cli
from linked_audiences.cli_runs import add_alert_args
from linked_audiences.cli_send_test import add_send_test


def wired_main(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> int:
    real = cli.build_parser

    def build() -> argparse.ArgumentParser:
        parser = real()
        commands: Any = next(
            a for a in parser._actions if isinstance(a, argparse._SubParsersAction)
        )
        if "send-test" not in commands.choices:
            add_send_test(commands)
        run_ = commands.choices["run"]
        if "--events-alert" not in run_._option_string_actions:
            add_alert_args(run_)
        return parser

    monkeypatch.setattr(cli, "build_parser", build)
    return cli.main(argv)
