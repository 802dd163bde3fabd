# The class teacher's desk: binding, invitations, applications and decisions.

scenario-teacher-desk = Class teacher's desk

teacher-bound =
    Hello, { $teacher_name }! This chat is now connected as a class teacher's chat (classes: { $teacher_classes }).
    What I can do:
    /invite — an invitation link and QR code for the students of your class;
    /pending — applications waiting for your decision.
    I will tell you about new applications myself, from 8:00 to 21:00 school time.
    The teacher link is personal: do not forward it to class or parent chats. If it is opened in another chat, that chat gets nothing of the class, and I tell you at once.
teacher-only = This command is for class teachers. Please open your teacher link to connect this chat.
teacher-choose-class = Which class is the invitation for?
btn-class = { $class }
teacher-invite-link =
    Invitation link for students (valid until { $expires }):
    { $invite_link }
    Send it to the class chat or print the QR code. Each student signs up with it on their own, with their own phone number or email.

pending-none = No applications are waiting for a decision.
pending-count = { $count ->
    [one] { $count } application is waiting for a decision:
   *[other] { $count } applications are waiting for a decision:
    }
pending-item = { $child_name }, class { $class }
teacher-new-application =
    New application to class { $class }: { $child_name }.
    Approve it?
teacher-still-pending =
    This application has been waiting for a decision for two working days: { $child_name }, class { $class }.
    The student can't carry on signing up until you decide.
btn-approve = Approve
btn-reject = Reject

reject-reason-choose = Why are you rejecting the application? The student will see the reason.
reject-reason-0 = Mistake in the name
reject-reason-1 = Student is not in this class
reject-reason-2 = Duplicate application
reject-reason-other = Other reason, I'll type it
reject-reason-type = Write the reason in one message. I will send it along with the decision.

decision-approved = The application is approved. The student will get a message and the next step: inviting a parent.
decision-rejected = The application is rejected. The student will get a message about it.
decision-already = This application has already been decided. Nothing has changed.
desk-failed = That did not work. Please try again a little later.
decision-not-allowed = Only the class teacher of this class can decide on this application.
teacher-link-taken = This teacher link is already connected in another chat, so this chat is NOT connected for now: applications and decisions of the class will not come here. I have asked the connected chat; if they agree, I will write.
teacher-link-used-elsewhere = Your teacher link has just been opened in another chat. Connect another chat to your class? Until you answer, that chat gets nothing of the class. If it was not you, press «No» and do not forward the link.
teacher-chat-btn-allow = Yes, connect it
teacher-chat-btn-refuse = No
teacher-chat-allowed = The class teacher confirmed: this chat is connected to the class. /invite and /pending work.
teacher-chat-refused = The class teacher did not confirm connecting this chat. Applications and decisions of the class will not come here.
teacher-chat-allow-done = Done: the second chat is connected. Disconnect any chat with /unbind in it.
teacher-chat-refuse-done = All right, that chat is not connected and gets nothing of the class.
unbind-done = This chat is disconnected from the class teacher's desk. To connect it again, open your teacher link.
