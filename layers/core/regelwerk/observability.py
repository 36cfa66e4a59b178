"""Logger, metrics and tracer, created once and imported by every handler.

No personal data goes into logs: log ids (shop, order, run, action), never addresses,
names, e-mail addresses or phone numbers.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

SERVICE = "regelwerk"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace="Regelwerk", service=SERVICE)
