"""The alexdb command line."""
