"""Text a document carries that is not its content, recognised the same way wherever it is met.

One rule, two users: the HTML reader drops a short block that starts as a copyright line ("© 2024 Example
News", readers/html.py); the offline answerer never quotes a sentence that carries one
(answering/quotable.py). Each caller keeps its own measure (a block's length, a sentence's position); what
counts as a copyright line is said here once. It lives below both readers and answering, which import nothing
of each other.
"""

from __future__ import annotations

import re

# "©" anywhere; "(c)" only before a year, since "(c)" alone is a list label ("(a) ... (b) ... (c) ..."); a line
# that opens with "Copyright"; "All rights reserved" anywhere. With .match (the HTML reader): only at the start.
COPYRIGHT = re.compile(r"©|\(c\)\s*\d{4}|^\s*copyright\b|\ball rights reserved\b", re.IGNORECASE)
