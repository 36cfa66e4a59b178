"""Doors for people and integrators: the admin API's routers and auth, customer records, dry runs, the portal page.

May import every stage below it; nothing imports api except the Lambda handlers in functions/ and the CLI.
"""
