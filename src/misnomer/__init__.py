"""misnomer: say when a C function's name says something other than what its body does."""

__version__ = "0.1.0"
