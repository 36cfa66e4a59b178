"""Documents are made: the template sandbox, PDF invoices and letters, the e-invoice XML, CSV, signed links.

May import: engine, model and the root. Rendering only: sending and storing them is for actions.
"""
