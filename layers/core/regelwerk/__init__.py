"""Regelwerk: automation rules for online shops.

A rule is a trigger, optional conditions and one or more actions. Shops send events,
the engine evaluates the shop's rules and the actions go out through queues to the
mail, SMS and PDF handlers. This package holds all of that logic; the Lambda
functions in ``functions/`` are thin doors into it.
"""

__version__ = "0.1.0"
