"""``manage.py import_sdmx FILE``: an SDMX-CSV file imported as returns."""
from django.core.management.base import BaseCommand, CommandError

from exchange import services
from exchange.management import options as shared


class Command(BaseCommand):
    help = "Import an SDMX-CSV file (dataflow KENT_FORUM:DF_PERFORMANCE) as returns (drafts), all or nothing."

    def add_arguments(self, parser):
        shared.add_user_argument(parser)

    def handle(self, *args, **options):
        try:
            with open(options["file"], "rb") as source:
                raw = source.read()
        except OSError as problem:
            raise CommandError(f"{options['file']}: {problem}.") from None
        user = shared.acting_user(options)
        shared.run_import(self, lambda: services.sdmx_import(user=user, raw=raw))
