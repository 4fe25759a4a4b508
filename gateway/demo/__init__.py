"""The narrated demo (`ketenpoort demo`): it drives a real gateway over HTTP from outside,
so it belongs to no domain."""
