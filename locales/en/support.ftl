# A person, when asked for one.

scenario-support = Reach a person

support-contact =
    I am a bot and answer by the instruction, but you can turn to a person: { $support_contact }.
    To get help sooner, say at which step you stopped and what you see on the screen. Never forward the child's phone number or verification codes to anyone.
