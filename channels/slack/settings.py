"""What the Slack channel needs from config.yaml and the environment, checked once at startup."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from bot.config import ConfigError, SlackChannel


@dataclass(frozen=True)
class SlackSettings:
    """Tokens come only from the environment variables the config names."""

    mode: str
    bot_token: str
    signing_secret: str
    app_token: str
    host: str
    port: int
    api_base_url: str
    triage_channel: str

    @classmethod
    def load(cls, cfg: SlackChannel, env: Mapping[str, str] | None = None) -> SlackSettings:
        """Settings for `cfg`; a ConfigError naming every missing variable otherwise."""
        env = os.environ if env is None else env
        wanted = {"bot_token_env": cfg.bot_token_env}
        wanted["signing_secret_env" if cfg.mode == "http" else "app_token_env"] = (
            cfg.signing_secret_env if cfg.mode == "http" else cfg.app_token_env)
        missing = [f"{var} (channels.slack.{key})" for key, var in wanted.items() if not env.get(var)]
        if missing:
            raise ConfigError(f"channels.slack ({cfg.mode} mode) needs the environment variable(s) "
                              f"{', '.join(missing)}; set them or turn channels.slack.enabled off")
        base = cfg.api_base_url if cfg.api_base_url.endswith("/") else cfg.api_base_url + "/"
        return cls(mode=cfg.mode, bot_token=env[cfg.bot_token_env],
                   signing_secret=env.get(cfg.signing_secret_env, ""), app_token=env.get(cfg.app_token_env, ""),
                   host=cfg.http.host, port=cfg.http.port, api_base_url=base, triage_channel=cfg.triage_channel)
