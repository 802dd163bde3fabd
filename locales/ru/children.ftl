# Several children from one chat (R4): each registration kept apart.

child-another =
    У вас уже идёт регистрация: { $child_name }. Это приглашение — для другого ребёнка?
    Каждого ребёнка регистрируют отдельно, по ссылке его классного руководителя и с его собственным номером или почтой. Обе регистрации сохранятся — вернуться к любой можно командой /children.
child-btn-another = Да, для другого ребёнка
child-btn-same = Нет, для того же
children-none = Пока здесь регистрируется один ребёнок. Когда откроете приглашение для другого, я сохраню обе регистрации, а /children покажет их списком.
children-list =
    Дети, которых регистрируют из этого чата:
    { $children }
    Выберите, с кем продолжить:
child-line = • { $child_name } — { $status }
child-btn-continue = Продолжить: { $child_name }
child-status-linked = родитель привязан
child-status-parent-invited = родитель приглашён
child-status-approved = заявка одобрена
child-status-rejected = заявка отклонена
child-status-pending = заявка ждёт решения
child-status-started = регистрация не закончена
cmd-children = Мои дети: все регистрации
