"""Payment providers behind one interface (`base.PaymentProvider`), chosen by name."""

from .base import get_provider, provider_names, register_provider

__all__ = ["get_provider", "provider_names", "register_provider"]
