"""The case workflow domain.

Importing any of its modules first runs this: the session's listeners that keep
``case_report.awaiting_lead`` right at every flush (gateway/cases/awaiting.py) are registered
whenever the case models can be used, without the models importing them back (an import
cycle, tests/standards/test_import_graph.py)."""

import gateway.cases.awaiting  # noqa: F401
