scenario-variant1-questions = Questions about signing up with a link

v1q-list = Common questions about signing up with an invitation link. What would you like to know?
v1q-btn-contact = Child has no phone or email
v1q-btn-code = The code hasn't arrived
v1q-btn-application = Who approves the request
v1q-btn-invite-parent = How to invite a parent
v1q-btn-parent-link = A parent got a link
v1q-btn-check-child = How to check the profile
v1q-btn-other-questions = Other questions

v1q-contact =
    Register a child with the child's own phone number or email, not an adult's. This is important.
    If your child has no phone of their own, give their email. If they have no email, create one with any email service, for example Mail.ru or Yandex.

v1q-code =
    The code is sent to the phone number or email given when signing up. Enter it in the confirmation field.
    If the code doesn't come, check that the number or email is right, and look in the «Спам» ("Spam") folder. After a minute, you can ask for the code again.

v1q-application =
    After signing up, an application for the child is created. The class teacher or a school administrator approves it.
    Once it is accepted, your child will see their profile and class information. It is usually approved within 1–2 working days; if it takes longer, remind the class teacher (if the application went through this bot, I remind them myself).

v1q-invite-parent =
    The child invites the parent from their own { -sferum } profile, after signing up. In the invitation window, they can copy the link and send it to the parent.
    If the child signed up here, in the bot, the "Invite a parent" button will appear once the application is accepted.

v1q-parent-link =
    Open the link from your child and enter YOUR OWN phone number. Parents sign up with a phone number only. You will confirm the number with a code.
    Then check your child's profile and confirm that everything is correct. After that, your account will be linked to your child's account.

v1q-check-child =
    When you open the link from your child and confirm your number, I will show you the child's profile: surname, first name, class and school.
    If everything is correct, confirm it, and your account will be linked to your child's account. If it is not your child, don't confirm. Ask the child to send the right link.
