scenario-menu = Main menu
scenario-invite = Invitation

menu-start =
    Hello! I will help you sign up for { -sferum } step by step, following the Orenburg Region instructions.
    Who are you?
menu-btn-parent = I'm a parent
menu-btn-student = I'm a student
menu-btn-teacher = I'm a teacher
menu-btn-about = What is { -sferum }?
menu-btn-rules = Important rules

menu-parent =
    What do you need?
    How to register your child depends on one thing: do they have a verified profile on Gosuslugi (Госуслуги, the government services website)?
menu-btn-no-gosuslugi = My child has no Gosuslugi
menu-btn-has-gosuslugi = My child has Gosuslugi
menu-btn-parent-chats = See all parent chats
menu-btn-diary = Online school diary
menu-btn-wrong-registration = We registered wrongly
menu-btn-several-children = I have several children
menu-btn-role-parent = What { -sferum } offers parents

menu-student =
    What do you need?
    How to sign up depends on one thing: do you have a verified profile on Gosuslugi (Госуслуги, the government services website)?
menu-btn-student-no-gosuslugi = No Gosuslugi profile
menu-btn-student-has-gosuslugi = I have a Gosuslugi profile
menu-btn-role-student = What { -sferum } offers students

menu-teacher =
    The Orenburg Region instructions are for students and parents. Students sign up with an invitation link from their class teacher. The class teacher or a school administrator approves the student's application.
    What would you like to see?
menu-btn-role-teacher = What { -sferum } offers teachers
menu-btn-how-students-register = How students sign up

menu-how-to-start =
    If your child has no Gosuslugi account, they sign up with an invitation link from the class teacher. Children under 14 don't need to sign up for VK (ВКонтакте).
    Do you already have the teacher's link?
menu-btn-site-link = Yes, a link to the { -sferum } site
menu-btn-bot-link = Yes, a link to this bot
menu-bot-link =
    A link to the bot starts with https://t.me/ or https://max.ru/. Open it and I will do the registration with you step by step: your child's phone or email, the code, the request to join the class, the invitation for a parent.
    If the link leads to the { -sferum } site, choose «Yes, a link to the { -sferum } site» and I will tell you what to press on the page.
menu-btn-no-link = I don't have a link yet
menu-btn-questions = Common questions
menu-no-link =
    The class teacher sends the invitation link. Write to them and ask for a link to register your child in { -sferum }.
    If you can't reach the class teacher, contact the school.

menu-rules =
    IMPORTANT: register a child with the child's own phone number or email, not an adult's.
    If you give the number of a parent or guardian, you won't be able to link the parent to the child's account later.
menu-btn-parent-phone-only = How parents sign up
menu-rule-parents =
    Children can sign up with a phone number or with an email.
    Parents sign up with a phone number only.
