"""The shop's records as values: orders, customers, invoices, the shop, money, and the messages that cross queues.

May import: the root (settings, errors). Pure data and its validation: no AWS, no other stage.
"""
