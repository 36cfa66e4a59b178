"""Actions are performed: e-mail, SMS, PDF documents, webhooks, tasks, status changes and exports, each called by
the delivery ledger with one typed action message.

May import: ingest (a status change is a new order event), delivery, store, documents, engine, model and the root.
"""
