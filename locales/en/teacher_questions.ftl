# A class teacher's questions about the teacher's side of the bot.

scenario-teacher-questions = A class teacher's questions

tq-bind =
    To connect a class teacher's chat, open your teacher link — the school gives it to you (the administrator or whoever set the bot up). Then /invite and /pending work here, and new student applications arrive by themselves.
    The teacher link is personal: do not forward it to class chats.
tq-invite-link =
    The /invite command (in a connected class teacher's chat) creates the invitation link for students: I send the link and a QR code. Post the link in the class chat or print the QR code — each student registers by it on their own, with their own phone or email.
tq-pending =
    The /pending command shows the applications waiting for your decision. I send new applications myself — from 8:00 to 21:00 school time; if one waits two working days, I remind you.
tq-approve =
    Each new application arrives as a message with «Approve» and «Reject» buttons. Check the student's name and class before deciding. If you reject, choose a reason or type your own: the student will see it.
    All waiting applications — with /pending.
