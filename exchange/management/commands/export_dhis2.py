"""``manage.py export_dhis2``: approved values as DHIS2 dataValueSets JSON."""
import json

from django.core.management.base import BaseCommand

from exchange import services
from exchange.management import options as shared


class Command(BaseCommand):
    help = "Export approved values as DHIS2 dataValueSets JSON (through the DHIS2 mapping tables)."

    def add_arguments(self, parser):
        shared.add_filter_argument(parser)

    def handle(self, *args, **options):
        def write():
            payload = services.dhis2_export(shared.filters(options))
            if options["output"]:
                with open(options["output"], "w", encoding="utf-8") as out:
                    json.dump(payload, out, indent=1)
            else:
                self.stdout.write(json.dumps(payload, indent=1))

        shared.export(write)
