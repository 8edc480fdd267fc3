"""Platform adapters: one module per platform, found through this registry.

Modules are named as strings and imported only when a source of that platform is fetched,
so commands that never touch the network never pay for httpx or feed parsing.
"""

from __future__ import annotations

import importlib

from cmday.sources.base import Adapter

ADAPTERS: dict[str, str] = {
    "demo": "cmday.sources.demo:DemoAdapter",
    "mastodon": "cmday.sources.mastodon:MastodonAdapter",
    "bluesky": "cmday.sources.bluesky:BlueskyAdapter",
    "rss": "cmday.sources.feed:FeedAdapter",
    "file": "cmday.sources.fileimport:FileAdapter",
    "email": "cmday.sources.email:EmailAdapter",
    "instagram": "cmday.sources.graph.instagram:InstagramAdapter",
    "facebook": "cmday.sources.graph.facebook:FacebookAdapter",
}


def adapter_class(platform: str) -> type[Adapter]:
    module_name, _sep, class_name = ADAPTERS[platform].partition(":")
    return getattr(importlib.import_module(module_name), class_name)
