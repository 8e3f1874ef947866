"""The SQLite index: schema, discovery, parallel indexing, reading back."""
