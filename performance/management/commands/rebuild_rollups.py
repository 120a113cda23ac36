"""manage.py rebuild_rollups: recompute every dashboard summary row from the approved returns."""
from django.core.management.base import BaseCommand

from performance.rollups.engine import rebuild_all


class Command(BaseCommand):
    help = "Recompute every summary row (indicator rollups and milestone positions). Idempotent."

    def handle(self, *args, **options):
        counts = rebuild_all()
        self.stdout.write(self.style.SUCCESS(
            f"Rebuilt {counts['slices']} slices: {counts['indicator rows']} indicator rows, "
            f"{counts['milestone rows']} milestone rows."
        ))
