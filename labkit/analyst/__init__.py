"""The analyst's toolkit: bundles from the wild recognised, inspected, converted and explained.

Submodules are imported by name (`labkit.analyst.wrappers` sits in front of the bundle reader and must not
import it).
"""
