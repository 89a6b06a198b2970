"""`pokegan train` (filled in by the training engine)."""


def add_parser(sub) -> None:
    pass
