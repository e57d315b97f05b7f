"""cwsw: children with a social worker, visible in education data."""

__version__ = "0.1.0"
