"""API keys of model servers, kept in the system keyring when the optional ``keyring`` package works."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

KEYRING_SERVICE = "MindGarden model server"


def _keyring_module():
    try:
        import keyring
        import keyring.errors
    except ImportError:
        log.debug("The keyring package is not installed, so API keys are not remembered")
        return None
    return keyring


def _account(base_url: str) -> str:
    return base_url.strip().rstrip("/")


def store_api_key(base_url: str, api_key: str) -> bool:
    """Store ``api_key`` for ``base_url`` in the system keyring; returns False when no keyring is usable.

    An empty key deletes the stored one. Keyring errors (KeyringError, RuntimeError, OSError) are
    logged without the key and not raised.
    """
    keyring = _keyring_module()
    if keyring is None:
        return False
    account = _account(base_url)
    try:
        if api_key:
            keyring.set_password(KEYRING_SERVICE, account, api_key)
        else:
            keyring.delete_password(KEYRING_SERVICE, account)
    except keyring.errors.PasswordDeleteError:
        return True
    except (keyring.errors.KeyringError, RuntimeError, OSError) as error:
        # NOTE: some keyring back ends raise RuntimeError or OSError (for example a locked D-Bus
        # secret service) instead of KeyringError.
        log.warning("The system keyring failed to store the API key for %s: %r", account, error)
        return False
    log.info("Stored the API key for %s in the system keyring", account)
    return True


def load_api_key(base_url: str) -> str | None:
    """Return the API key stored for ``base_url``, or None when none is stored or no keyring is usable."""
    keyring = _keyring_module()
    if keyring is None:
        return None
    account = _account(base_url)
    try:
        api_key = keyring.get_password(KEYRING_SERVICE, account)
    except (keyring.errors.KeyringError, RuntimeError, OSError) as error:
        log.warning("The system keyring failed to read the API key for %s: %r", account, error)
        return None
    return api_key or None
