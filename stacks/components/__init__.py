"""One construct per logical unit: the function, Bedrock access and the REST API.

(Named ``components`` rather than ``constructs`` so that it never shadows the ``constructs`` library.)
"""
