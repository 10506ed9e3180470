"""`mediadesk nginx-config`: prints the nginx site for this server and data folder."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from core.settings import Settings
from server.nginx_conf import NginxSite

COMMANDS = ("nginx-config",)


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    nginx = sub.add_parser(
        "nginx-config",
        parents=[common],
        help="print an nginx site that sends local-storage bytes after MediaDesk's checks",
        description="Prints the nginx site for MediaDesk behind nginx with TLS: nginx sends the "
        "bytes of streams with X-Accel-Redirect after MediaDesk's token check, lookup and "
        "audit, and keeps MediaDesk's answer for one caller for half a second at most. Save it "
        "as /etc/nginx/sites-enabled/mediadesk and run the server with "
        "MEDIADESK_ACCEL_REDIRECT=/_protected/ on 127.0.0.1.",
    )
    nginx.add_argument("--server-name", default="media.club.example", help="the site's host name")
    nginx.add_argument(
        "--certificate",
        help="TLS certificate (default: Let's Encrypt's path for the host name)",
    )
    nginx.add_argument("--certificate-key", help="TLS key (default: Let's Encrypt's path)")
    nginx.add_argument(
        "--cache-dir",
        default=NginxSite.cache_dir,
        help="where nginx keeps MediaDesk's answers (default: %(default)s)",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    live = f"/etc/letsencrypt/live/{args.server_name}"
    host = settings.server_host
    if host in ("", "0.0.0.0", "::"):  # listening everywhere: nginx reaches it on loopback
        host = "127.0.0.1"
    site = NginxSite(
        upstream=f"{host}:{settings.server_port}",
        objects_dir=str(settings.paths.objects_dir),
        cache_dir=args.cache_dir,
        accel_prefix=settings.accel_redirect or NginxSite.accel_prefix,
    )
    sys.stdout.write(
        site.site(
            args.server_name,
            args.certificate or f"{live}/fullchain.pem",
            args.certificate_key or f"{live}/privkey.pem",
        )
    )
    return 0
