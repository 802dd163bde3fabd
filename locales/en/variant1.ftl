scenario-variant1 = Registering a child with the teacher's link

v1-welcome =
    Hello! This is an invitation to class { $class } ({ $school }). The class teacher is { $teacher_name }.
    I will help you register your child. On the website, it starts with the «Войти в аккаунт» ("Sign in") button. Here, just press the button below.
    Children under 14 don't need to sign up for VK (ВКонтакте).
v1-btn-sign-in = Sign in

v1-ask-contact =
    Write your CHILD's phone number or email, not an adult's. This is important.
    If your child has no phone of their own, their email will do.
v1-contact-help =
    We need the child's own number or email: the code will be sent there.
    Don't give a parent's number. Otherwise you won't be able to link the parent to the child's account later.
v1-btn-no-email = No phone and no email
v1-no-email =
    Create an email address for your child with any email service, for example Mail.ru or Yandex. It takes a couple of minutes.
    When the email is ready, press the button below and write the address.
v1-btn-enter-contact = Enter a number or email

v1-confirm-contact =
    Please check: is { $address } your child's own number or email?
    If you give a parent's number, you won't be able to link the parent to the child's account later.
v1-btn-yes-child = Yes, it's my child's
v1-btn-fix-contact = Change the number or email

v1-ask-code = We have sent a code to { $address }. Please enter it here ({ $code_length ->
    [one] { $code_length } digit
   *[other] { $code_length } digits
    }).

v1-already-registered =
    If your child has already signed up with this number or email, just sign in to { -messenger } with it.
    If the child was registered with a parent's number, you need to: A) contact technical support and ask them to delete the profile ({ $support_contact }); B) ask the class teacher for a new invitation link; C) register again, following the instructions.

v1-ask-name = The code is confirmed. Now write your child's surname, first name and patronymic, for example: Петров Иван Сергеевич.
v1-confirm-application =
    Please check the application:
    { $child_name }, class { $class }, { $school }.
    Send it to the class teacher?
v1-btn-send-application = Send the application
v1-btn-fix-name = Correct the name

v1-submitted =
    The application is sent! The class teacher or a school administrator will approve it, usually within 1–2 working days; if it takes longer, I will remind the class teacher.
    Once it is accepted, your child will see their profile and class information. You can check the status with the button below.
v1-btn-check-status = Check application status
v1-pending = The application is still being reviewed. It is usually approved within 1–2 working days; if it takes longer, I will remind the class teacher myself.
v1-btn-check-again = Check again
v1-rejected =
    Sorry, the application was rejected. Most often, there is a mistake in the details.
    Ask the class teacher for a new invitation link and register again.

v1-approved = The application is accepted! Your child can now see their profile and information about class { $class }.
    The next step is to invite a parent.
v1-btn-invite-parent = Invite a parent
v1-parent-invite =
    Copy this link and send it to a parent:
    { $invite_link }
    The parent opens it, enters THEIR OWN phone number, confirms it with a code and checks the child's profile.
