"""genai_core/clients.py: every AWS client of the function, botocore's, with its settings and a shared data loader."""

from __future__ import annotations

import os
from unittest import mock

from genai_core import clients
from genai_core.limits import ClientSettings

SETTINGS = ClientSettings(connect_timeout=2, read_timeout=7, max_attempts=3, region="eu-west-1")


def test_a_client_has_its_settings_timeouts_attempts_region_and_the_projects_user_agent():
    client = clients.make_client("bedrock-runtime", SETTINGS)
    config = client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (2, 7)
    assert config.retries == {"total_max_attempts": 3, "mode": "standard"}
    assert client.meta.region_name == "eu-west-1"
    assert clients.USER_AGENT_EXTRA in config.user_agent_extra


def test_a_caller_adds_its_own_config_options():
    client = clients.make_client("s3", SETTINGS, signature_version="s3v4", s3={"addressing_style": "virtual"})
    assert (client.meta.config.signature_version, client.meta.config.s3) == ("s3v4", {"addressing_style": "virtual"})
    assert client.meta.config.connect_timeout == 2


def test_every_client_comes_from_the_one_session_so_models_are_found_and_parsed_once():
    """botocore's scan of every service's folder (hundreds of directory listings) comes before the first model a
    session's loader reads; a client made later, of another service, lists only that service's folder."""
    assert clients.shared_session() is clients.shared_session()
    clients.make_client("s3", SETTINGS)  # the session's loader has scanned the services' folders
    listed: list[str] = []
    real = os.listdir

    def counting(path: str) -> list[str]:
        listed.append(path)
        return real(path)

    with mock.patch("botocore.loaders.os.listdir", counting):
        clients.make_client("dynamodb", SETTINGS)
    assert len(listed) <= 2, listed  # DynamoDB's own folder, not every service's


def test_clients_made_from_many_threads_at_once_all_work():
    """The streaming function answers requests in threads: the session is used under a lock."""
    from concurrent.futures import ThreadPoolExecutor

    services = ["bedrock-runtime", "bedrock-agent-runtime", "s3", "dynamodb"] * 4
    with ThreadPoolExecutor(max_workers=8) as pool:
        made = list(pool.map(lambda service: clients.make_client(service, SETTINGS), services))
    assert [client.meta.service_model.service_name for client in made] == services
