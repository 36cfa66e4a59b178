"""make serve --port: links follow the chosen port, and a taken port is one line and exit 1."""

from __future__ import annotations

import socket

from regelwerk_cli.serve import port_free, serve


def test_a_taken_port_is_one_line_and_exit_1(capsys):
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        assert not port_free(port)

        def never(**_kwargs):  # the stack must not even start
            raise AssertionError("started the stack on a taken port")

        assert serve(port, never, never, None) == 1  # type: ignore[arg-type]
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(port) in err[0] and "--port" in err[0]


def test_portal_links_follow_the_local_url(monkeypatch):
    from regelwerk.settings import settings

    monkeypatch.setenv("STAGE", "local")
    monkeypatch.setenv("LOCAL_URL", "http://127.0.0.1:3456")
    settings.cache_clear()  # settings are read once a container; serve sets LOCAL_URL before the stack starts
    try:
        assert settings().portal_url_base == "http://127.0.0.1:3456"
    finally:
        monkeypatch.undo()
        settings.cache_clear()
