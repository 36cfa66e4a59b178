"""Actions go out exactly once: the SQS transport, the hand-off (now or on a schedule), delays, the send-time
guards and the delivery ledger that every action handler runs through.

May import: store, documents, engine, model and the root.
"""
