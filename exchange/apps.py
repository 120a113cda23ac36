"""The exchange app: DHIS2 and SDMX-CSV exports and imports of indicator values."""
from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "exchange"
    verbose_name = "Exchange with DHIS2 and SDMX"
