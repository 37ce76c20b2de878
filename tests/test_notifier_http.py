"""The helpers every HTTP notifier shares: Retry-After, TLS from tls_config, credentials, options.

TLS is checked by real handshakes with a loopback HTTPS server whose certificate (from a
throwaway trustme CA) names only ``alerts.test``.
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
import trustme
from aiohttp import web

from alertrouter import __version__
from alertrouter.config.integrations import HTTPClientConfig, TLSConfig
from alertrouter.errors import PermanentNotifierError
from alertrouter.notifiers.http import (
    authorization_header,
    parse_retry_after,
    request_options,
    tls_context,
)

NOW = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
SERVER_NAME = "alerts.test"

Serve = Callable[..., AbstractAsyncContextManager[str]]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("3", 3.0),
        (" 12 ", 12.0),
        ("1.5", 1.5),
        ("0", 0.0),
        ("-5", 0.0),
        ("Wed, 01 May 2024 10:01:00 GMT", 60.0),
        ("Wednesday, 01-May-24 10:00:30 GMT", 30.0),
        ("Wed, 01 May 2024 09:00:00 GMT", 0.0),
        ("soon", None),
        ("Wed, 99 Foo 2024 10:01:00 GMT", None),
        ("inf", None),
        ("nan", None),
        ("", None),
        (None, None),
    ],
    ids=[
        "seconds", "padded", "fraction", "zero", "negative", "date", "rfc850-date",
        "past-date", "garbage", "bad-date", "inf", "nan", "empty", "absent",
    ],
)  # fmt: skip
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    """Delta-seconds or an HTTP date become seconds from ``now``, never negative; junk is None."""
    assert parse_retry_after(value, NOW) == seconds


def test_parse_retry_after_defaults_to_the_wall_clock() -> None:
    """Without ``now`` an HTTP date is measured from the current time."""
    assert parse_retry_after("Wed, 01 May 2024 10:01:00 GMT") == 0.0  # long past


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    """A throwaway CA for the test server's (and client's) certificates."""
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    """The CA's PEM on disk, for ``ca_file``."""
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def serve(ca: trustme.CA) -> Serve:
    """Run an HTTPS server on 127.0.0.1 for ``alerts.test``; yields its URL."""

    @asynccontextmanager
    async def run(
        *, max_version: ssl.TLSVersion | None = None, client_ca: bool = False
    ) -> AsyncIterator[str]:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(SERVER_NAME).configure_cert(context)
        if max_version is not None:
            context.maximum_version = max_version
        if client_ca:
            ca.configure_trust(context)
            context.verify_mode = ssl.CERT_REQUIRED
        app = web.Application()
        app.router.add_get("/", _ok)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        port = runner.addresses[0][1]
        try:
            yield f"https://127.0.0.1:{port}/"
        finally:
            await runner.cleanup()

    return run


async def _ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def fetch(url: str, tls: TLSConfig) -> str:
    """GET ``url`` with the SSLContext ``tls`` makes; the body."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, ssl=tls_context(tls)) as response,
    ):
        return await response.text()


async def test_ca_file_and_server_name(serve: Serve, ca_file: str) -> None:
    """``ca_file`` is trusted, and ``server_name`` is what the certificate is checked against."""
    async with serve() as url:
        assert await fetch(url, TLSConfig(ca_file=ca_file, server_name=SERVER_NAME)) == "ok"
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await fetch(url, TLSConfig(ca_file=ca_file))  # 127.0.0.1 is not in the certificate
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await fetch(url, TLSConfig(server_name=SERVER_NAME))  # system roots only


async def test_insecure_skip_verify(serve: Serve) -> None:
    """``insecure_skip_verify`` accepts any certificate for any name."""
    async with serve() as url:
        assert await fetch(url, TLSConfig(insecure_skip_verify=True)) == "ok"


@pytest.mark.parametrize(
    ("min_version", "version"),
    [("TLS12", ssl.TLSVersion.TLSv1_2), ("tls13", ssl.TLSVersion.TLSv1_3)],
)
def test_min_version_names(ca_file: str, min_version: str, version: ssl.TLSVersion) -> None:
    """``min_version`` takes Prometheus' names, in any case."""
    assert tls_context(TLSConfig(ca_file=ca_file, min_version=min_version)).minimum_version == (
        version
    )


async def test_min_version_refuses_an_older_server(serve: Serve, ca_file: str) -> None:
    """With ``min_version: TLS13`` a server that speaks at most TLS 1.2 is refused."""
    tls = TLSConfig(ca_file=ca_file, server_name=SERVER_NAME, min_version="TLS13")
    async with serve(max_version=ssl.TLSVersion.TLSv1_2) as url:
        with pytest.raises(aiohttp.ClientConnectorError):
            await fetch(url, tls)
        assert await fetch(url, tls.model_copy(update={"min_version": "TLS12"})) == "ok"


async def test_client_certificate(
    serve: Serve, ca: trustme.CA, ca_file: str, tmp_path: Path
) -> None:
    """``cert_file`` and ``key_file`` are presented to a server that requires a client cert."""
    client = ca.issue_cert("alertrouter.test")
    cert_file, key_file = tmp_path / "client.pem", tmp_path / "client.key"
    client.cert_chain_pems[0].write_to_path(str(cert_file))
    client.private_key_pem.write_to_path(str(key_file))
    tls = TLSConfig(ca_file=ca_file, server_name=SERVER_NAME)
    async with serve(client_ca=True) as url:
        with_cert = tls.model_copy(update={"cert_file": str(cert_file), "key_file": str(key_file)})
        assert await fetch(url, with_cert) == "ok"
        with pytest.raises(aiohttp.ClientError):
            await fetch(url, tls)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"ca_file": "/nonexistent/ca.pem"}, "tls_config: cannot load files: No such file"),
        ({"cert_file": "/x/cert.pem"}, "cert_file and key_file must be given together"),
        ({"min_version": "TLS9"}, "tls_config: unknown min_version TLS9"),
    ],
    ids=["missing-ca", "cert-without-key", "unknown-version"],
)
def test_unusable_tls_config_is_permanent(fields: dict[str, str], message: str) -> None:
    """Files that cannot be read, or an unknown version, fail permanently with a reason."""
    with pytest.raises(PermanentNotifierError, match=message) as caught:
        tls_context(TLSConfig.model_validate(fields))
    assert caught.value.reason == "other"


def test_default_context_verifies() -> None:
    """Without tls_config the context checks certificates and host names against system roots."""
    context = tls_context(None)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True


def basic(pair: str) -> str:
    """The Basic credentials header for ``user:password``, UTF-8 as Go encodes it."""
    return "Basic " + base64.b64encode(pair.encode()).decode()


@pytest.mark.parametrize(
    ("http", "header"),
    [
        ({}, None),
        ({"bearer_token": "t0k"}, "Bearer t0k"),
        ({"authorization": {"credentials": "t0k"}}, "Bearer t0k"),
        ({"authorization": {"type": "Token", "credentials": "t0k"}}, "Token t0k"),
        ({"authorization": {"type": "", "credentials": "t0k"}}, "Bearer t0k"),
        ({"authorization": {"type": "Token"}}, None),
        ({"basic_auth": {"username": "am", "password": "pw"}}, basic("am:pw")),
        ({"basic_auth": {"username": "am"}}, basic("am:")),
        ({"basic_auth": {"username": "am", "password": "pässwörd"}}, basic("am:pässwörd")),
    ],
    ids=[
        "none", "bearer_token", "authorization", "authorization-type", "authorization-empty-type",
        "authorization-no-credentials", "basic", "basic-no-password", "basic-utf8",
    ],
)  # fmt: skip
def test_authorization_header(http: dict[str, object], header: str | None) -> None:
    """Each http_config credential form gives the Authorization header Prometheus would send."""
    assert authorization_header(HTTPClientConfig.model_validate(http)) == header


def test_bearer_token_file(tmp_path: Path) -> None:
    """``bearer_token_file`` is read (stripped) relative to the config's folder."""
    (tmp_path / "token").write_text("t0k\n")
    http = HTTPClientConfig.model_validate(
        {"bearer_token_file": "token"}, context={"base_dir": str(tmp_path)}
    )
    assert authorization_header(http) == "Bearer t0k"


def test_request_options_defaults() -> None:
    """Without http_config: JSON and our User-Agent, default TLS, no proxy, redirects followed."""
    assert request_options(HTTPClientConfig()) == {
        "headers": {"Content-Type": "application/json", "User-Agent": f"alertrouter/{__version__}"},
        "proxy": None,
        "ssl": True,
        "allow_redirects": True,
    }


def test_request_options_from_http_config(ca_file: str) -> None:
    """Credentials, proxy, tls_config and follow_redirects all reach the aiohttp options."""
    http = HTTPClientConfig.model_validate(
        {
            "bearer_token": "t0k",
            "proxy_url": "http://proxy.internal:3128",
            "follow_redirects": False,
            "tls_config": {"ca_file": ca_file, "min_version": "TLS13"},
        }
    )
    options = request_options(http)
    assert options["headers"]["Authorization"] == "Bearer t0k"
    assert options["proxy"] == "http://proxy.internal:3128"
    assert options["allow_redirects"] is False
    assert isinstance(options["ssl"], ssl.SSLContext)
    assert options["ssl"].minimum_version == ssl.TLSVersion.TLSv1_3


async def test_request_options_post_to_a_real_server(serve: Serve, ca_file: str) -> None:
    """The options as a whole are accepted by aiohttp and reach the TLS server."""
    http = HTTPClientConfig.model_validate(
        {"tls_config": {"ca_file": ca_file, "server_name": SERVER_NAME}}
    )
    async with (
        serve() as url,
        aiohttp.ClientSession() as session,
        session.get(url, **request_options(http)) as response,
    ):
        assert await response.text() == "ok"
