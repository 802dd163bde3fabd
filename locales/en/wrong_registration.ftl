scenario-wrong-registration = If you registered wrongly

wrong-what =
    If a parent's phone number was given when registering the child, you won't be able to link the parent to the child's account later.
    You can fix this in 3 steps.
wrong-btn-fix = How to fix it

wrong-support =
    Contact technical support and ask them to delete the child's profile.
    Where to turn: { $support_contact }.
wrong-support-trouble =
    If you can't reach support, ask at the school: they know who deletes profiles.
    When the profile is deleted, come back to this step.

wrong-new-link = Ask the class teacher for a new invitation link to join the class.
wrong-new-link-trouble = If you can't reach the class teacher, contact the school.

wrong-again =
    Register again with the new link, following the instructions.
    This time, give the child's own phone number or email, not a parent's.
