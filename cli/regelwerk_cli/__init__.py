"""The regelwerk command line and the embedded local stack (moto on 127.0.0.1, no AWS account, no Docker)."""
