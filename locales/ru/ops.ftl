# The operators' page (/stats): no personal data, only counts.
ops-title = Сферум-бот: как идут дела
ops-period = За последние { $days } дн., по школьному времени
ops-service = Сервис регистрации: { $failed } сбоев из { $calls } вызовов ({ $rate })
ops-outbox = Очередь сообщений: ждут отправки { $due }, самое старое ждёт { $oldest } с
ops-legend = Полоса — сколько разговоров дошли до шага; красная часть — сколько остановились на нём и молчали сутки.
ops-entered = дошли
ops-stalled = остановились
ops-nobody-yet = Этот сценарий пока никто не проходил.
