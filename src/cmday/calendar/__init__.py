"""The publication calendar: the plan, its dates, its exchange with sheets and calendar apps, writing back, checks and agenda."""
