"""Tests of the HEMS Home Assistant packages."""
