"""Tests of the wallbox entry kind."""
