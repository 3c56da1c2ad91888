"""The condition (filter) language: parse conditions, read item fields, fetch and sort items.

Typical use::

    query = ItemQuery(parse_condition("is_ignored=no prio>0"), parse_sort_fields("-prio, loaded"))
    items = query.fetch(client, view="main")
"""

from pyrotorque.conditions.fetch import Item, ItemClient, ItemQuery, match_items
from pyrotorque.conditions.fields import FIELDS, FieldContext, FieldDef, announce_alias, lookup_field
from pyrotorque.conditions.parser import Matcher, parse_condition
from pyrotorque.conditions.sort import SortField, parse_sort_fields

__all__ = [
    "FIELDS",
    "FieldContext",
    "FieldDef",
    "Item",
    "ItemClient",
    "ItemQuery",
    "Matcher",
    "SortField",
    "announce_alias",
    "lookup_field",
    "match_items",
    "parse_condition",
    "parse_sort_fields",
]
