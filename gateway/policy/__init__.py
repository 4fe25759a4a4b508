"""Covenants as code: covenant models, bundle compilation and the policy decision point."""
