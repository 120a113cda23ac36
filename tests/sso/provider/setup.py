"""Sets up the test provider's database: ``python -m tests.sso.provider.setup <spec.json>`` runs
the migrations, then registers the users ({username, password, email, name, organisation}) and one
confidential client ({client_id, client_secret, redirect_uri}) that the spec names."""
import json
import os
import sys

import django


def main(spec_path: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.sso.provider.settings")
    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0)
    with open(spec_path) as handle:
        spec = json.load(handle)
    for person in spec["users"]:
        first, _, last = person["name"].partition(" ")
        user = User.objects.create_user(person["username"], email=person["email"], password=person["password"],
                                        first_name=first, last_name=last)
        if person.get("organisation"):
            user.groups.add(Group.objects.get_or_create(name=person["organisation"])[0])
    client = spec["client"]
    Application.objects.create(
        name="Kent Forum performance portal", client_id=client["client_id"], client_secret=client["client_secret"],
        client_type=Application.CLIENT_CONFIDENTIAL, authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=client["redirect_uri"], algorithm=Application.RS256_ALGORITHM, skip_authorization=True,
    )


if __name__ == "__main__":
    main(sys.argv[1])
