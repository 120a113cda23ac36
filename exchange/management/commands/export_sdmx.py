"""``manage.py export_sdmx``: approved values as SDMX-CSV."""
from django.core.management.base import BaseCommand

from exchange import services
from exchange.management import options as shared


class Command(BaseCommand):
    help = "Export approved values as SDMX-CSV (dataflow KENT_FORUM:DF_PERFORMANCE(1.0))."

    def add_arguments(self, parser):
        shared.add_filter_argument(parser)

    def handle(self, *args, **options):
        def write():
            if options["output"]:
                with open(options["output"], "w", encoding="utf-8", newline="") as out:
                    services.sdmx_export(out, shared.filters(options))
            else:
                services.sdmx_export(self.stdout, shared.filters(options))

        shared.export(write)
