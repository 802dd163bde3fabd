scenario-several-children = Several children

several-children =
    If you have several children:
    — register each child separately, with an invitation link from that child's class teacher;
    — give the phone number or email of the child you are registering right now.
several-btn-how = How registration works
