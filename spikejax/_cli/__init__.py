"""The command-line jobs behind `spikejax` (the top layer: above `plot`, nothing in the
library imports it). `spikejax.cli` registers them as subcommands."""
