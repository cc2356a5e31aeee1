from collections.abc import Sequence

MAX_PAGE_SIZE = 100


def paginate[T](items: Sequence[T], *, page: int, page_size: int) -> Sequence[T]:
    """1-based pages, as the Notte client sends them; page_size is capped."""
    page = max(page, 1)
    page_size = min(max(page_size, 1), MAX_PAGE_SIZE)
    start = (page - 1) * page_size
    return items[start : start + page_size]
