"""Helpers of the training example (shipped to the job as a local module)."""
