"""Helpers shared by more than one test area. Import them as ``from tests.support.<module> import ...``.

Area-specific helpers stay in their area (``tests/server/server_support.py``, ``tests/bridge/bridge_support.py``...).
"""
