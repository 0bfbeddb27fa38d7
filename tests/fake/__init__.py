"""Tests of the local VPS.org fake (pulumi_vpsbackup.fake)."""
