"""The returns' REST API: viewsets, serializers and the fast rows of the hot lists."""
