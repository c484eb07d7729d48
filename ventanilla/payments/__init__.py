"""Payments (issue 3 §6). For now: integer-centavo money and the payment reference."""
