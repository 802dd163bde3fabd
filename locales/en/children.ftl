# Several children from one chat (R4): each registration kept apart.

child-another =
    A registration is already under way here: { $child_name }. Is this invitation for another child?
    Each child is registered separately, by their own class teacher's link and with their own phone or email. Both registrations are kept — return to either with /children.
child-btn-another = Yes, another child
child-btn-same = No, the same child
children-none = Only one child is being registered here so far. When you open an invitation for another, I keep both registrations, and /children lists them.
children-list =
    Children registered from this chat:
    { $children }
    Choose whom to go on with:
child-line = • { $child_name } — { $status }
child-btn-continue = Continue: { $child_name }
child-status-linked = parent linked
child-status-parent-invited = parent invited
child-status-approved = application approved
child-status-rejected = application rejected
child-status-pending = application waiting for a decision
child-status-started = registration not finished
cmd-children = My children: every registration
