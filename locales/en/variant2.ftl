scenario-variant2 = Registering a child with a Gosuslugi profile

v2-install =
    Your child has a verified profile on Gosuslugi (Госуслуги). So your child needs to create a profile on { -sferum }. Let's do it step by step.
    Do every step as your child: "about yourself" and "your account" mean the child.
    Install the { -messenger } app{ -messenger-note } on a mobile phone.
v2-install-trouble =
    The app is called { -messenger }. Search for it by name in your phone's app store.
    If you can't install it, contact the class teacher or the school. They will help.

v2-create = Open the { -messenger } app and press «Создать профиль Сферум» ("Create a { -sferum } profile").
v2-create-trouble =
    The button is called «Создать профиль Сферум» ("Create a { -sferum } profile"). You will find it in the { -messenger } app.
    If you can't see it, or nothing happens, contact the class teacher or the school. They will help.

v2-profile = Fill in the information about yourself and create a study account.
v2-profile-trouble = If something goes wrong while you fill it in, contact the class teacher or the school. They will help.

v2-journal =
    Go to your online journal { -journal } and sign in through GIS ELK (ГИС ЕЛК).
    IMPORTANT: your child must have access to their online journal. If there is no access, press "No access to the journal". I will tell you how to get it.
v2-btn-no-diary = No access to the journal
v2-journal-trouble =
    To sign in through GIS ELK, your child must have access to their online journal.
    If there is no access, you get it through Gosuslugi. Press the button below. If there is access but you can't sign in, contact the school.
v2-btn-get-diary = How to get access

v2-phone = Enter the mobile number of your { -sferum } account.
v2-phone-trouble =
    You need the mobile number that is in your { -sferum } account.
    If the number doesn't work, contact the class teacher or the school. They will help.

v2-password = Enter the password of your { -sferum } account.
v2-password-trouble =
    You need the password of the { -sferum } account whose number you entered in step 5.
    If the password doesn't work, contact the class teacher or the school. They will help.

v2-sms-code = Enter the code from the SMS. It will come to your mobile phone.
v2-btn-no-code = The code hasn't arrived
v2-sms-code-trouble =
    The code comes by SMS to the number you entered in step 5. Check that it is the number of your { -sferum } account. If not, go back to step 5.
    If the number is right but the code still doesn't come, contact the class teacher or the school.
v2-btn-back-to-phone = Back to step 5

v2-continue-profile = Press the «Продолжить в учебном профиле» ("Continue in study profile") button.
v2-btn-no-button = I can't see this button
v2-continue-profile-trouble =
    In the instructions, this button comes right after the SMS code. Check that you have finished steps 5–7: the number, the password and the code of your { -sferum } account.
    If the button still isn't there, contact the class teacher or the school.

v2-check-data =
    Check your personal details (this is how they will look on the platform) and press «Продолжить» ("Continue").
    A message will say that the study profile is linked.
v2-btn-wrong-data = My details are wrong
v2-check-data-trouble = If there is a mistake in your personal details, contact the class teacher or the school. They will tell you what to do.

v2-done =
    The study profile is linked! Now open the { -messenger } app. You will find chats there that were made automatically.
    To see all chats open to parents, a parent needs to follow their own steps. Use the button below.
