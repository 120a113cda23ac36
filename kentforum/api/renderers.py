"""CSV for every list, for a partner's analyst who opens it in Excel. Text that a spreadsheet
would run as a formula is neutralised with a leading apostrophe."""
from rest_framework_csv.renderers import PaginatedCSVRenderer

from kentforum.csvcells import export_cell


def _neutralise(value):
    if isinstance(value, dict):
        return {k: _neutralise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_neutralise(v) for v in value]
    if isinstance(value, str):
        return export_cell(value)
    return value


class SafeCSVRenderer(PaginatedCSVRenderer):
    format = "csv"
    media_type = "text/csv"
    results_field = "results"

    def render(self, data, media_type=None, renderer_context=None, writer_opts=None):
        if isinstance(data, dict) and self.results_field not in data:
            data = {self.results_field: [data]}
        rendered = super().render(_neutralise(data), media_type, renderer_context, writer_opts)
        if not rendered:
            # An empty list still has its header row (and so a content type).
            view = (renderer_context or {}).get("view")
            fields = list(view.get_serializer().fields) if view is not None and hasattr(view, "get_serializer") else []
            rendered = (",".join(fields) + "\r\n").encode()
        return rendered
