"""Tests of the HEMS automation blueprints in a real Home Assistant."""
