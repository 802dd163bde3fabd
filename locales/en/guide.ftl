scenario-guide = What to do with the teacher's link
topic-guide-open-link = What to press on the teacher's link

guide-open-link =
    All right, let's go step by step. Everything is done on the { -sferum } website, and I will tell you what to press.
    Open the invitation link from the class teacher. On the page that opens, press «Войти в аккаунт» ("Sign in").
    Children under 14 don't need to sign up for the ВКонтакте social network.
guide-open-link-trouble =
    Check that the whole link was copied, and open it in the browser on your phone or computer. The «Войти в аккаунт» ("Sign in") button is on the page that opens.
    If the page doesn't open or the link doesn't work, ask the class teacher to send it again.

guide-contact-warning =
    IMPORTANT, before you go on: a child is registered with the child's own phone number or email, not a parent's.
    If a parent's or legal guardian's number is given, it will be impossible to link the parent to the child's account later.
guide-btn-understood = Got it

guide-contact =
    The sign-in page will open. In the field on the right, enter your child's phone number or email.
    Then press «Продолжить» ("Continue").
guide-contact-trouble =
    If your child has no phone number of their own, give their email.
    If there is no email either, create one with any email service, for example Mail.ru or Yandex. It takes a couple of minutes.
    Don't give an adult's number or email.

guide-code =
    A verification code will come to the phone number or email you gave.
    Enter it in the confirmation field.
guide-code-trouble =
    The code comes by SMS or by email. If you are waiting for an email, look in the «Спам» ("Spam") folder.
    Wait a minute and ask for the code again. Check that the number or email was typed correctly, and fix it if not.
    If a parent's number was given by mistake, press "A parent's number was given". I will tell you how to fix it.
guide-btn-fix-contact = Fix the number or email
guide-btn-parent-number = A parent's number was given

guide-application =
    Signing up is complete: an application for your child has been created.
    The class teacher or a school administrator approves it. When it is approved, press "Done".
guide-application-trouble =
    Your child's profile and class won't open until the application is approved. The class teacher or a school administrator approves it.
    If it takes a long time (say, a couple of working days have passed), remind the class teacher about it.

guide-approved =
    The application is accepted! Now your child can see their profile and information about the class they belong to.
    The next step is to invite a parent.
guide-btn-not-approved = No profile yet

guide-invite-parent =
    In their { -sferum } profile, the child invites a parent: the parent invitation window will open.
    Copy the link from it and send it to the parent.
guide-invite-parent-trouble =
    A parent can be invited only after the child's application is accepted. The invitation is in the child's { -sferum } profile.
    Send the link to the parent any way you like, in a message or by SMS. If there is no invitation window, contact the class teacher.

guide-parent-phone =
    The parent opens the link and enters THEIR OWN phone number. Parents sign up with a phone number only.
    A code will come to that number. Enter it to confirm.
guide-parent-phone-trouble =
    Parents sign up with a phone number only. An email won't work here.
    If the code doesn't come, check that the number is right, wait a minute and ask for the code again.
    If your number is already in the child's account, the child was registered with a parent's number. Press the button below, and I will tell you how to fix it.
guide-btn-phone-is-childs = My number is already the child's

guide-check-child =
    Check the child's profile: that it is your child and the details are correct.
    If everything is right, confirm it. After that, your account will be linked to your child's account.
guide-check-child-trouble =
    If it is not your child, or there is a mistake in the profile, don't confirm.
    Contact the class teacher. They will help you sort it out.

guide-journal =
    Done, the accounts are linked!
    To see all chats open to parents, link your profile to the online journal { -journal }, section «Чаты» ("Chats"). For the steps, press "How to see all chats".
    If you don't have access to your child's online diary, press "No access to the diary".
guide-btn-parent-chats = How to see all chats
guide-btn-no-diary = No access to the diary
