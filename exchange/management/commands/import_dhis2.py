"""``manage.py import_dhis2 FILE``: a DHIS2 dataValueSets JSON file imported as returns."""
import json

from django.core.management.base import BaseCommand, CommandError

from exchange import services
from exchange.management import options as shared


class Command(BaseCommand):
    help = "Import a DHIS2 dataValueSets JSON file as returns (drafts), all or nothing."

    def add_arguments(self, parser):
        shared.add_user_argument(parser)

    def handle(self, *args, **options):
        try:
            with open(options["file"], "rb") as source:
                payload = json.loads(source.read())
        except (OSError, ValueError) as problem:
            raise CommandError(f"{options['file']}: not a JSON file ({problem}).") from None
        user = shared.acting_user(options)
        shared.run_import(self, lambda: services.dhis2_import(user=user, payload=payload))
