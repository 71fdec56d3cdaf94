"""Tests for the hems integration."""
