class AirgapError(Exception):
    """A build step cannot go on. The message says what is missing and how to fix it."""
