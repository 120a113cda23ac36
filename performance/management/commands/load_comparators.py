"""manage.py load_comparators <csv>: load comparator figures (England, the South East, similar
counties) from a CSV file, all or nothing, through the same service as the Forum team's upload page."""
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from performance.comparators import services


class Command(BaseCommand):
    help = ("Load comparator figures from a CSV file with the columns " + ",".join(services.COLUMNS)
            + ". Every row is saved, or none; errors are listed by row.")

    def add_arguments(self, parser):
        parser.add_argument("csv", type=Path)

    def handle(self, *args, csv: Path, **options):
        try:
            raw = csv.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {csv}: {error}") from error
        try:
            result = services.comparator_figures_import(user=None, raw=raw)
        except ValidationError as error:
            raise CommandError("Nothing was loaded:\n  " + "\n  ".join(error.messages)) from error
        self.stdout.write(self.style.SUCCESS(
            f"Comparator figures: {result.created} new, {result.updated} replaced, {result.unchanged} unchanged."))
