scenario-diary = Access to the online diary

a1-gosuslugi =
    Parents and students get access to the online diary in the same way. A student applies for themselves.
    Open https://www.gosuslugi.ru/326058/3/ and sign in to Gosuslugi (Госуслуги). Your account must be verified.
a1-gosuslugi-trouble =
    You can only apply with a verified Gosuslugi account.
    If your account is not verified, or you can't sign in, contact the school. They will tell you what to do.

a1-form =
    Fill in the application for access to the online diary.
    Your own details fill in by themselves. Type in the student's details. Check them very carefully: if there is a mistake, the school will reject the application.
    The school reviews the application within 5 working days.
a1-form-trouble =
    Your own details fill in by themselves. The student's details you type in yourself, without mistakes.
    If something in the form is unclear, contact the school: the school reviews the application.

a1-accepted =
    When the application has the status «Принято» ("Accepted"), you can see the student's marks:
    — on the website { -journal };
    — in the «Цифровая школа Оренбуржья» ("Digital School of Orenburg Region") mobile app.
a1-btn-not-accepted = Status isn't «Принято»
a1-btn-sent = I've sent the application
a1-btn-accepted = Status is «Принято»
a1-form-sent =
    Good! The school will review the application within 5 working days, by { $due_date } at the latest.
    On that day, I will remind you to check the application status on Gosuslugi.
a1-check-reminder =
    Today is the last day for the school to review your application for access to the online diary.
    Check its status on Gosuslugi (Госуслуги): if it is «Принято» ("Accepted"), you already have access.
a1-accepted-trouble =
    The school reviews the application within 5 working days. Until then, the status will not be «Принято» ("Accepted").
    The school rejects the application if the details are wrong. If it was rejected, check the student's details and apply again.
    If more than 5 working days have passed, or you don't know what is wrong, contact the school.
a1-btn-apply-again = Apply again

a1-done =
    Done, you now have access to the online diary!
    If you came here from registering your child or from setting up parent chats, carry on from the same step.
a1-btn-back-to-variant2 = Continue registration
a1-btn-back-to-parent-chats = Continue setting up chats
