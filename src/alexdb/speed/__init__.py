"""The speed layer: market ticks in, price alerts evaluated as they arrive."""
