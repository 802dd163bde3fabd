# The operators' page (/stats): no personal data, only counts.
ops-title = Sferum bot: how it is going
ops-period = The last { $days } day(s), school time
ops-service = Registration service: { $failed } failures in { $calls } calls ({ $rate })
ops-outbox = Outbox: { $due } waiting to be sent, the oldest for { $oldest } s
ops-legend = A bar is how many conversations reached the step; its red part is how many stopped there and stayed silent for a day.
ops-entered = reached
ops-stalled = stopped
ops-nobody-yet = Nobody has gone through this scenario yet.
