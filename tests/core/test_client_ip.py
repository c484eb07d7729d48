"""The visitor's address behind reverse proxies, and normalised for hashing."""

import pytest
from django.test import RequestFactory, override_settings

from ventanilla.core.http import client_ip

rf = RequestFactory()


def test_direct_visitor():
    assert client_ip(rf.get("/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="1.2.3.4")) == "203.0.113.7"


@override_settings(TRUSTED_PROXIES=["127.0.0.1"])
def test_behind_a_trusted_proxy_the_forwarded_address_counts():
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.9, 203.0.113.7")
    assert client_ip(request) == "203.0.113.7"


@override_settings(TRUSTED_PROXIES=["127.0.0.1", "10.0.0.2"])
def test_chained_trusted_proxies_are_skipped_and_spoofed_left_entries_ignored():
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7, 10.0.0.2")
    assert client_ip(request) == "203.0.113.7"


@override_settings(TRUSTED_PROXIES=["127.0.0.1"])
def test_malformed_forwarded_chain_falls_back_to_the_proxy():
    assert client_ip(rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="nonsense")) == "127.0.0.1"


@pytest.mark.parametrize("raw, normal", [("2001:DB8:0:0::1", "2001:db8::1"), ("fe80::1%eth0", "fe80::1")])
def test_ipv6_is_normalised(raw, normal):
    assert client_ip(rf.get("/", REMOTE_ADDR=raw)) == normal


@pytest.mark.django_db
def test_audit_chain_survives_uppercase_ipv6():
    from ventanilla.audit.services import record, verify_chain

    record("test.ipv6", request=rf.get("/", REMOTE_ADDR="2001:DB8:0:0::1"))
    assert verify_chain().ok
