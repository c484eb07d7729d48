"""Online procedures (issue 3). For now: the legal business-day calendar."""
