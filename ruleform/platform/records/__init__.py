"""Records of any entity: the write rules (pure), the service (I/O), lists and history.

Every path that reads or writes entity rows — pages, API, imports, jobs — goes through
``RecordService``; it asks ``Policy`` every access question.
"""

from .queries import Filter, ListPage, ListQuery, run_list
from .service import RecordService, RecordView

__all__ = ["RecordService", "RecordView", "Filter", "ListQuery", "ListPage", "run_list"]
