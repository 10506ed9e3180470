"""What an API token looks like, apart from the catalog: core.tokens makes and lists tokens of
this shape, and core.logsetup tells them in any log line (it cannot import core.tokens, which
imports it through core.feed and core.events)."""

from __future__ import annotations

TOKEN_PREFIX = "mdk_"
# What a token is known by where its secret must not show: the stored prefix of `token list`
# and the desktop's token table, and what the logs keep of one (core.logsetup). The prefix and
# 8 of the secret's 43 characters: 48 of its 256 bits.
PREFIX_CHARS = 12
# The secret after the prefix as core.tokens makes it (secrets.token_urlsafe of 32 bytes): 43
# characters of [A-Za-z0-9_-]; the logs tell a token by it (core.logsetup)
SECRET_CHARS = 43
