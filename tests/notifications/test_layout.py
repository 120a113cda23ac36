"""Notifications listen to the performance app; nothing of the performance app (nor the shared
helpers and framework apps) knows of them."""
import grimp

PACKAGES = ("performance", "kentforum", "ambitions", "partnerships", "localities", "notifications")


def test_no_module_of_performance_or_the_framework_imports_notifications():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    for package in ("performance", "ambitions", "partnerships", "localities"):
        assert not graph.chain_exists(importer=package, imported="notifications", as_packages=True), package
