"""Everything is stored: PynamoDB models of the tables template.yaml declares, and the repositories over them
(shops and keys, rules and templates, customers, orders, invoices, the run log, schedules, paging tokens).

May import: documents (a template is checked before it is stored), engine (a rule is validated before it is
stored), model and the root.
"""
