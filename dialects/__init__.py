"""Warehouse dialects: one module per warehouse; never imports linked_audiences."""
