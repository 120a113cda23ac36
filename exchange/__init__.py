"""Exchange with other systems: approved values out, and returns in, as DHIS2 ``dataValueSets``
JSON and as SDMX-CSV, through the returns' own services (``performance.returns``)."""
