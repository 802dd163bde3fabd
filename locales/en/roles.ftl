scenario-roles = What is { -sferum }?

roles-about =
    { -sferum } is an education platform; its chats, lessons and calls work in the { -messenger } app.
    Teachers and students share study materials, make video calls (one-to-one or in groups), run live streams and talk in topic chats.
    Want to know more? Choose who it's for:
roles-btn-teacher = For teachers
roles-btn-student = For students
roles-btn-parent = For parents
roles-btn-register = How to sign up

roles-teacher =
    On { -sferum }, a teacher can:
    — create a class chat for each subject;
    — share files and materials for their subject with students;
    — tell about important changes and remind about homework;
    — make audio and video calls, and just chat.
roles-student =
    On { -sferum }, a student can:
    — join their class's online lessons;
    — take part in video meetings of the whole school;
    — chat with classmates and teachers.
roles-parent =
    { -sferum } is an education platform in the { -messenger } app. On it, a parent can:
    — join parent meetings from home;
    — talk with teachers and other parents;
    — keep up with their child's progress;
    — learn about school events online.
