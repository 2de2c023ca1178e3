"""The test oracle: a slow, plain-Python reference evaluator of SPEC §1–3, hypothesis
strategies that generate graphs, warehouse data and audiences, and a DuckDB loader for them.

The compiled SQL's answers are compared with :func:`tests.reference.evaluator.evaluate`.
"""

from tests.reference.evaluator import Result, Tables, evaluate

__all__ = ["Result", "Tables", "evaluate"]
