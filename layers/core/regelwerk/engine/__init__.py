"""Rules decide: the rule document, conditions over fields, triggers and cron, the context a rule sees, evaluation.

May import: model and the root. Pure logic, no AWS: the same engine runs on events, schedules and dry runs.
"""
