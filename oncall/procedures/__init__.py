"""The reference procedures (DESIGN.md, `reference/`), each encoded whole as data in a module
of its own, and the one loader that configures the portal from them (`manage.py
load_procedure <name>`). Adding a procedure is a module with a `PROCEDURE` dict and a line here."""

from . import alloy, arq, matchbook, treebeard, xmtp

PROCEDURES = {module.PROCEDURE["name"]: module.PROCEDURE for module in (xmtp, treebeard, arq, matchbook, alloy)}
