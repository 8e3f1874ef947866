"""The C front end: tree-sitter parsing of C files into facts (``misnomer.facts``)."""
