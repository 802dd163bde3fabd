scenario-parent = Linking a parent to a child

parent-welcome =
    Hello! { $child_name } ({ $class }, { $school }) invites you to { -sferum } as a parent.
    Please write YOUR mobile number. We will send a code to it. Parents sign up with a phone number only.
parent-phone-help = We need your own number, not your child's: it links your account in { -sferum }. Email does not work for parents.
parent-ask-code = We have sent a code to { $address }. Please enter it here.
parent-btn-fix-phone = Change the number
parent-btn-other-phone = Enter another number
parent-registered-as-child =
    Your child was registered with your number, so we can't link you with it. What to do:
    A) contact technical support and ask them to delete the child's profile ({ $support_contact });
    B) ask the class teacher for a new invitation link to the class;
    C) register the child again, with the child's own number or email.
parent-check-child =
    Please check your child's profile:
    { $child_name }
    Class: { $class }
    School: { $school }
    Is everything correct?
parent-btn-confirm = Yes, that's correct
parent-btn-not-my-child = No, not my child
parent-cancelled = Linking cancelled. If the link came by mistake, ask your child to send the right one.
parent-linked =
    Done, your account is linked to your child's account!
    To see all chats open to parents, link your profile to the online journal { -journal } in the «Чаты» ("Chats") section. I will show you how, step by step.
parent-btn-all-chats = How to see all chats
