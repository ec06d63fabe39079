"""The Secret type and the log scrubber."""

from __future__ import annotations

import logging

import pytest

from tenantctl.secrets import RedactingFilter, Secret, scrub


def test_secret_never_prints_itself() -> None:
    secret = Secret("glpat-abcdefghijklmnopqrst")

    assert str(secret) == "***"
    assert repr(secret) == "Secret(***)"
    assert f"{secret}" == "***"
    assert secret.reveal() == "glpat-abcdefghijklmnopqrst"


def test_secret_cannot_be_pickled() -> None:
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(Secret("value-1234"))


@pytest.mark.parametrize(
    "text",
    [
        "token glpat-AbCdEfGhIjKlMnOpQrSt1 here",
        "runner glrt-t1_AbCdEfGhIjKlMnOpQrSt",
        "vault hvs.CAESIAbCdEfGhIjKlMnOpQrSt",
        "legacy s.AbCdEfGhIjKlMnOpQrStUvWx",
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc",
    ],
)
def test_token_shapes_are_scrubbed(text: str) -> None:
    scrubbed = scrub(text)

    assert "***" in scrubbed
    assert text.split(" ", 1)[1] not in scrubbed


@pytest.mark.parametrize(
    "text", ["members.0.access", "address s.example.com", "keycloak.realm"]
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert scrub(text) == text


def test_known_secret_values_are_scrubbed_from_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = Secret("plain-looking-value-42")
    logger = logging.getLogger("tenantctl.test")
    logger.addFilter(RedactingFilter())

    with caplog.at_level(logging.INFO, logger="tenantctl.test"):
        logger.info("sending %s", secret.reveal())

    assert "plain-looking-value-42" not in caplog.text
    assert "sending ***" in caplog.text
