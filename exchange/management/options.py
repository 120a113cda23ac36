"""What the exchange's management commands share: the export filters given as ``--filter
name=value``, the user an import acts as, and an import's refusal as a CommandError."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError

from exchange import services
from kentforum.errors import joined


def add_filter_argument(parser) -> None:
    parser.add_argument("--filter", action="append", default=[], metavar="NAME=VALUE",
                        help="A filter of the approved-values export (indicator, locality, period, period_from, ...); repeatable.")
    parser.add_argument("--output", "-o", help="Write to this file (default: standard output).")


def filters(options) -> dict:
    params = {}
    for item in options["filter"]:
        name, separator, value = item.partition("=")
        if not separator:
            raise CommandError(f"--filter {item!r}: write it as name=value, e.g. --filter locality=E07000105.")
        params[name.strip()] = value
    return params


def add_user_argument(parser) -> None:
    parser.add_argument("file", help="The file to import.")
    parser.add_argument("--user", help="Import as this user (their permissions, named in the audit trail); "
                                       "default: the system, on behalf of the Forum team.")


def acting_user(options):
    if not options.get("user"):
        return None
    user = get_user_model().objects.filter(username=options["user"]).first()
    if user is None:
        raise CommandError(f"There is no user {options['user']!r}.")
    return user


def run_import(command, call) -> None:
    """Run an import and report it: the returns saved, or every refused row (and a CommandError)."""
    try:
        saved = call()
    except services.ExchangeErrors as refused:
        for error in refused.errors:
            command.stderr.write(f"row {error['row']}, {error['field']}: {error['message']}")
        raise CommandError(f"{refused.detail} ({len(refused.errors)} error(s))") from None
    except PermissionDenied as denied:
        raise CommandError(str(denied)) from None
    except ValidationError as invalid:
        raise CommandError(joined(invalid)) from None
    command.stdout.write(f"{len(saved)} returns saved as drafts.")


def export(call) -> None:
    try:
        call()
    except ValidationError as invalid:
        raise CommandError(joined(invalid)) from None
