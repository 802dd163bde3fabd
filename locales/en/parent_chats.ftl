scenario-parent-chats = All chats for parents

pc-install =
    To see all chats open to parents on { -journal }, follow 5 steps.
    Install the { -messenger } app{ -messenger-note } on your phone.
pc-install-trouble =
    The app is called { -messenger }. Search for it by name in your phone's app store.
    If you can't install it, contact the class teacher or the school. They will help.

pc-create = Open the { -messenger } app and press «Создать профиль Сферум» ("Create a { -sferum } profile").
pc-create-trouble =
    The button is called «Создать профиль Сферум» ("Create a { -sferum } profile"). You will find it in the { -messenger } app.
    If you can't see it, or nothing happens, contact the class teacher or the school. They will help.

pc-profile = Fill in the information about yourself and create a study account.
pc-profile-trouble = If something goes wrong while you fill it in, contact the class teacher or the school. They will help.

pc-journal =
    Sign in to the online journal { -journal } through GIS ELK (ГИС ЕЛК).
    IMPORTANT: you must have access to your child's online diary. If you don't, press "No access to the diary". I will tell you how to get it.
pc-btn-no-diary = No access to the diary
pc-journal-trouble =
    To sign in through GIS ELK, you must have access to your child's online diary.
    If you don't have access, you get it through Gosuslugi. Press the button below. If you have access but can't sign in, contact the school.

pc-chats =
    In the online journal, open the «Чаты» ("Chats") section and press «Привязать учебный профиль» ("Link study profile").
    After that, your chats will appear in the { -messenger } app.
pc-chats-trouble =
    The «Чаты» ("Chats") section is in the online journal { -journal }, after you sign in through GIS ELK (step 4).
    If you can't see the section or the «Привязать учебный профиль» ("Link study profile") button, contact the class teacher or the school.

pc-done = Done! Now all your chats are in the { -messenger } app.
