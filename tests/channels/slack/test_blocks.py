"""Slack text rules and Block Kit shapes, without I/O."""

from __future__ import annotations

from channels.slack.mrkdwn import escape, identity


def test_escape_follows_slacks_three_rules() -> None:
    assert escape("<!channel> & <@U1|x> <http://a|b>") == "&lt;!channel&gt; &amp; &lt;@U1|x&gt; &lt;http://a|b&gt;"
    assert escape("&amp;") == "&amp;amp;"          # already-escaped text from a customer stays as typed


def test_staff_identities_become_mentions_and_others_stay_text() -> None:
    assert identity("slack:U0ANA") == "<@U0ANA>"
    assert identity("slack:U0A>|x") == "slack:U0A&gt;|x"
    assert identity("email:<a@b>") == "email:&lt;a@b&gt;"


def test_the_manifest_declares_the_command_scopes_interactivity_and_socket_mode() -> None:
    from pathlib import Path

    import yaml

    manifest = yaml.safe_load((Path(__file__).parents[3] / "channels/slack/manifest.yaml").read_text())
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/pqr" and command["should_escape"] is True
    assert {"commands", "chat:write", "im:write", "users:read"} <= set(manifest["oauth_config"]["scopes"]["bot"])
    assert manifest["settings"]["interactivity"]["is_enabled"] and manifest["settings"]["socket_mode_enabled"]
