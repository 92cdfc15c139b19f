"""Dedicated renderers for formats that TemplateMeta pieces cannot express."""
