"""Template filters for a figure's status: its words and its GOV.UK tag colour, from the one
definition in ``catalogue.rules`` (``{% load status %}``, then ``{{ status|status_label }}``)."""
from django import template

from performance.catalogue import rules

register = template.Library()

register.filter("status_label", rules.status_label)
register.filter("status_tag", rules.status_tag)
