"""Persistence: PynamoDB models of the tables that template.yaml declares, and the repositories over them."""
