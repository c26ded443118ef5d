"""The test tree is a package (every folder has an ``__init__.py``): test modules get unique dotted names
(``tests.e2e.test_audit``), so file names need no area prefix, and tests import shared helpers as
``tests.support.<module>`` (the repository root is on ``sys.path`` through pytest's ``pythonpath``)."""
