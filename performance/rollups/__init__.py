"""The rollups wing: the summary tables the dashboards read, computed from approved returns in
SQL on PostgreSQL (``postgres``, rules in ``sql/rules.sql``) or in Python (``reference``),
queued after the commit of each change (``queue``) and run by Celery (``tasks``). It may
import the catalogue, never the returns or the dashboards."""
