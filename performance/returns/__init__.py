"""The returns wing: the return workflow from an officer's form, a partner's API call or a CSV
upload to an approved figure, with its validation, audit trail, access rules, reminders,
exports, pages, API and tasks. It may import the rollups and the catalogue, never the
dashboards."""
