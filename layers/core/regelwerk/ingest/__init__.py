"""The shop's event comes in: platform adapters, order and invoice events, schedules, selections, dunning and the
digest, each ending in the one run writer that records the decision and hands the planned actions on.

May import: delivery, store, documents, engine, model and the root.
"""
