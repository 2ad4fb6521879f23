"""Which URLs the platform calls on a partner's word (``ocpikit.protocol.url_policy``)."""

from __future__ import annotations

import ipaddress

import pytest

from ocpikit.protocol.url_policy import UrlPolicy, UrlRefused

STRICT = UrlPolicy.of()


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("ftp://partner.example/ocpi", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("https://user:secret@partner.example/ocpi", "credentials"),
        ("https:///ocpi/versions", "no host"),
        ("http://127.0.0.1:8000/admin/api", "loopback"),
        ("http://[::1]/x", "loopback"),
        ("http://10.0.0.8/x", "private"),
        ("http://192.168.1.1/x", "private"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[::ffff:127.0.0.1]/x", "loopback"),
        ("http://0.0.0.0/x", "unspecified"),
        ("http://224.0.0.1/x", "multicast"),
        ("http://partner.example:99999/x", "not a valid URL"),
    ],
)
def test_refused_urls_name_the_url_and_the_rule(url: str, rule: str) -> None:
    with pytest.raises(UrlRefused) as exc:
        STRICT.check_url(url)
    assert rule in exc.value.message
    assert exc.value.status_code == 3001
    assert "secret" not in exc.value.message


def test_public_hosts_pass_and_are_returned_for_resolving() -> None:
    assert STRICT.check_url("https://Partner.Example/ocpi/versions") == "partner.example"
    assert STRICT.check_url("http://93.184.215.14:8080/x") == "93.184.215.14"


def test_resolved_addresses_are_checked_too() -> None:
    with pytest.raises(UrlRefused, match=r"partner\.example is a private address"):
        STRICT.check_address("u", "partner.example", ipaddress.ip_address("10.1.2.3"))
    STRICT.check_address("u", "partner.example", ipaddress.ip_address("93.184.215.14"))


def test_allowed_hosts_and_private_networks_are_explicit() -> None:
    loopback = UrlPolicy.of(["127.0.0.1", "Partner.Local"])
    assert loopback.check_url("http://127.0.0.1:9000/ocpi") == "127.0.0.1"
    loopback.check_address("u", "partner.local", ipaddress.ip_address("10.0.0.1"))
    with pytest.raises(UrlRefused):
        loopback.check_url("http://10.0.0.1/x")
    private = UrlPolicy.of(allow_private_networks=True)
    private.check_url("http://10.0.0.1/x")
    private.check_url("http://169.254.10.10/x")
    with pytest.raises(UrlRefused, match="loopback"):
        private.check_url("http://127.0.0.1/x")  # loopback only by name in allowed_hosts


def test_response_urls_and_links_stay_on_the_partners_hosts() -> None:
    registered = ["https://ocpi.partner.example/versions", "https://api.partner.example/2.2.1"]
    UrlPolicy.check_same_site("https://api.partner.example/commands/1", registered, "response_url")
    with pytest.raises(UrlRefused, match="response_url must stay"):
        UrlPolicy.check_same_site("https://evil.example/x", registered, "response_url")


def test_partner_sites_refuse_exactly_what_the_reference_refuses() -> None:
    from ocpikit.protocol.url_policy import PartnerSites

    registered = ["https://ocpi.partner.example/versions", "http://api.partner.example:8443/2.2.1"]
    sites = PartnerSites(registered, extra=["results.partner.example"])
    candidates = [
        "https://ocpi.partner.example/cdrs?offset=50",
        "https://OCPI.Partner.Example/x",
        "https://api.partner.example:8443/x",
        "http://api.partner.example/x",
        "https://results.partner.example/r/1",
        "https://ocpi.partner.example.evil.example/x",
        "https://evil.example/?u=https://ocpi.partner.example/",
        "https://ocpi.partner.example",
        "ftp://ocpi.partner.example/x",
        "https://127.0.0.1/x",
    ]
    for url in candidates:
        try:
            UrlPolicy.check_same_site(url, sites.urls, "Link")
            expected = True
        except UrlRefused:
            expected = False
        try:
            sites.check(url, "Link")
            got = True
        except UrlRefused:
            got = False
        assert got == expected, url
    with pytest.raises(UrlRefused):
        sites.check("https://ocpi.partner.example.evil.example/x", "Link")
