"""Residents' votes: the roll, secret ballots, tallies."""
