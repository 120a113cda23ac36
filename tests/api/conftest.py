from tests.performance.conftest import (  # noqa: F401 - fixtures shared with the returns tests
    approver,
    board_member,
    count_indicator,
    forum_admin,
    officer,
    other_officer,
    period,
    rate_indicator,
)
