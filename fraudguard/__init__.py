"""FraudGuard: fraud and promotion-safety scoring for phone top-ups."""

__version__ = "0.1.0"
