"""manage.py load_kent_framework: load the Kent framework from data/kent_framework/."""
from pathlib import Path

from django.core.management.base import BaseCommand

from kentforum.loaders.framework import framework_load


class Command(BaseCommand):
    help = (
        "Load the Kent framework (ambitions, KPQs, localities, partners, boards and members, delivery plans, "
        "partnerships, officer groups) from the data files. Safe to run again: it only changes what differs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--data-dir", type=Path, default=None, help="Folder of the framework YAML files.")

    def handle(self, *args, data_dir=None, **options):
        report = framework_load(data_dir=data_dir)
        for line in report.lines():
            self.stdout.write(f"  {line}")
        if report.changed:
            self.stdout.write(self.style.SUCCESS("Kent framework loaded."))
        else:
            self.stdout.write(self.style.SUCCESS("No changes: the Kent framework is already up to date."))
