"""manage.py load_demo: load the clearly labelled demo set (needs load_kent_framework first)."""
from pathlib import Path

from django.core.management.base import BaseCommand

from kentforum.loaders.demo import demo_load


class Command(BaseCommand):
    help = (
        "Load the demo set: illustrative indicators with targets, eight quarters of district returns, milestones, "
        "action and forward plans, local priorities, studies and one user per role. Not official data. "
        "Deterministic and safe to run again. New users' passwords are generated and printed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--data-dir", type=Path, default=None)
        parser.add_argument(
            "--reset-passwords", action="store_true", help="Give every demo user a new password and print it."
        )

    def handle(self, *args, data_dir=None, reset_passwords=False, **options):
        result = demo_load(data_dir=data_dir, reset_passwords=reset_passwords)
        for line in result.report.lines():
            self.stdout.write(f"  {line}")
        self.stdout.write(self.style.SUCCESS("Demo set loaded." if result.report.changed else "No changes: the demo set is already loaded."))
        if result.passwords:
            self.stdout.write("\nDemo users (sign in at http://127.0.0.1:8000/accounts/login/):")
            for username, password in result.passwords.items():
                self.stdout.write(f"  {username:<16} {password}")
        else:
            self.stdout.write("Demo users' passwords are unchanged (use --reset-passwords to print new ones).")
