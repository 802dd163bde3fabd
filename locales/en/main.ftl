# Words the engine itself says, and words shared by several scenarios.

# The platform and the messenger it lives in. Keep these in step with locales/ru/main.ftl:
# the real apps and websites are in Russian, so the names must match what parents see there.
-sferum = Sferum
-messenger-max = MAX
-messenger-vk = VK Messenger
-messenger-note-max = { " (the regional instruction still calls it «VK Мессенджер»)" }
-messenger-note-vk = { "" }
-journal = https://de.edu.orb.ru/

progress = Step { $step } of { $total }

btn-menu = Main menu
btn-back = Back
btn-resend-code = Send the code again
btn-new-code = Get a new code
btn-open-journal = Open the online journal
btn-done = Done
btn-trouble = It's not working
btn-try-again = Try again
btn-open-gosuslugi = Open Gosuslugi

button-stale = This button is out of date. Here is where we are now:
input-stuck =
    Looks like I don't understand you. That's OK.
    I can walk you through registering on { -sferum } step by step, answer questions about the instruction (ask in your own words), and tell you what to do when something doesn't work.
    Press a button below, go back a step with /back — or reach a person.
help-general =
    I help you sign up for { -sferum }, following the Orenburg Region instructions.
    Commands:
    /menu — main menu
    /back — one step back
    /reset — start over
    /forget — delete everything the bot keeps about you
    /lang — change the language
    /help — this help
command-unknown = There is no such command. Try /help to see the list of commands.
deep-link-invalid = This link is broken or incomplete. Ask the class teacher to send it again in full.
nothing-to-go-back = There is nowhere to go back to. We are at the very start.
reset-done = OK, let's start over. Everything you typed has been removed from the conversation.
session-restarted = The bot has been updated, and your old step no longer exists. Let's carry on from the nearest sensible point. Your answers are not lost.
session-lost = Sorry, your saved conversation could not be read. Let's start again.
forget-done = Done: the bot has deleted everything it kept about you. To start again, send /start.

error-service-unavailable = The registration service is not responding right now. Your answers are saved. Please try again in a few minutes.
error-internal = Sorry, something went wrong on our side. Let's start again from the main menu.
error-store-unavailable = The bot is not available right now. Please try again in a few minutes.

## Hints for answers that were not accepted

hint-child-contact = I couldn't read a phone number or email there. Please write your child's mobile number, for example +7 912 345-67-89, or their email, for example ivan@mail.ru.
hint-phone-not-mobile = This doesn't look like a Russian mobile number. It should look like +7 9XX XXX-XX-XX.
hint-email-invalid = There is a mistake in the email address. Please check it: it should look like name@mail.ru.
hint-parent-phone = I couldn't read the number. Please write your mobile number, for example +7 912 345-67-89.
hint-parent-email = Parents sign up with a phone number only, so email won't work here. Please write your mobile number.
hint-code = The code is { $length ->
    [one] { $length } digit
   *[other] { $length } digits
    } from the message. Please type only the digits.
hint-child-name = Write your child's surname, first name and patronymic (if they have one), separated by spaces. For example: Петров Иван Сергеевич.
hint-child-name-characters = A surname, first name and patronymic can only have letters, hyphens and apostrophes. For example: Петров Иван Сергеевич.

## What the registration service refused

error-invite-not-found = This invitation was not found. Check that you copied the whole link, or ask the class teacher to send it again.
error-invite-expired = This invitation has expired. Ask the class teacher for a new invitation link to join the class.
error-invite-used = Someone has already signed up with this invitation. If it wasn't you, ask the class teacher for a new link.
error-not-class-teacher = Only the class teacher of this class can do this.
error-invalid-address = The service did not accept this address. Check the number or email and enter it again.
error-address-already-registered = This number or email is already registered in { -sferum }.
error-address-registered-as-child = This number is already used in a child's account. So the child was registered with a parent's number.
error-channel-not-allowed = Parents sign up with a phone number only. Please write your mobile number.
error-too-many-requests = Too many code requests — this is how the bot protects numbers from unwanted texts. Please try again in { $minutes ->
    [one] { $minutes } minute
   *[other] { $minutes } minutes
    }. If you need help: { $support_contact }.
error-too-early = You can ask for a new code in { $seconds ->
    [one] { $seconds } second
   *[other] { $seconds } seconds
    }.
error-wrong-code = The code is wrong. { $attempts_left ->
    [0] You have no attempts left.
    [one] You have { $attempts_left } attempt left.
   *[other] You have { $attempts_left } attempts left.
    }
error-verification-expired = The code has expired.
error-too-many-attempts = Too many wrong codes were entered.
error-verification-not-completed = First, confirm the number or email with a code.
error-invalid-child = The service did not accept the child's details. Check the surname, first name and patronymic.
error-application-not-found = The application was not found. Try opening the invitation link again.
error-already-decided = This application has already been decided.
error-application-not-approved = The application is not approved yet. You can invite a parent once it is approved.

code-help = The code comes by SMS or email within a couple of minutes. Check your «Спам» ("Spam") folder. If the code doesn't come, a "Send the code again" button will appear in a minute.
code-expired = This code no longer works. Ask for a new one. It will come to the same place.

btn-resume = Back to my step
route-not-found = I couldn't find an answer to that. Please choose an option with a button, or open the main menu.
lang-choose = Choose a language / Выберите язык:
lang-ru = Русский
lang-en = English

## Telegram

btn-share-contact = Send my number
unsupported-message = I only understand text and buttons. Please write your answer as a message or press a button.
contact-not-own = Please send your own number. Use the "Send my number" button, or type the number in a message.
edited-message = I don't re-read edited messages. Please send the corrected text as a new message.
cmd-menu = Main menu
cmd-back = One step back
cmd-help = Help and list of commands
cmd-reset = Start over
cmd-lang = Change language
cmd-forget = Delete my data

## Reminders

idle-reminder = Just a reminder: your registration isn't finished. Shall we carry on from where you stopped? Choose an option or write your answer.
btn-no-reminders = Don't remind me
reminders-off = OK, I won't remind you again.
cmd-invite = Class invitation (for teachers)
cmd-pending = Applications to decide (for teachers)

## Listening: courtesy, questions the bot is unsure of, a person

courtesy-greeting = Hello! Let's go on — here is where we are:
courtesy-thanks = You're welcome! Write any time you need something else. Here is where we are:
courtesy-confused = Let's go step by step. Here is what is needed now — press a button or answer in your own words:
courtesy-rude = I understand this can be tiring. Let me try to help once more — here is where we are:
clarify = Did you mean one of these? Please choose:
clarify-btn-none = Something else
clarify-none = All right. Please ask in other words — or choose an option with a button.
btn-support = Reach a person
support-default = the class teacher or the school's administrator, and { -sferum }'s own support in the app itself
session-resumed = Welcome back! Let's go on from where we stopped:
resend-ready = If the code still has not come, you can ask for a new one now, with the button below.
name-doubt =
    Please check: is «{ $child_name }» written exactly as in the child's documents (birth certificate, passport)? The school checks the name against them and rejects an application spelled otherwise.
    If it is right, send the name again. If not, write it in full, in Russian, for example: Петрова Мария Ивановна.
session-vanished = It looks like I lost our conversation — sorry. Let's go on: choose what you need, or open the invitation link again and I will start at the right step.
help-teacher =
    I help class teachers with their students and parents in { -sferum }.
    Commands:
    /invite — an invitation link and QR code for the class's students
    /pending — applications waiting for your decision
    /menu — the main menu
    /help — this help
    /forget — delete everything the bot keeps about you
    New applications arrive by themselves, with «Approve» and «Reject» buttons.
flood-slow-down = Too many messages in a row — please wait a little. I will answer the next one.
parent-linked-to-child = A parent with the number { $phone } has linked to your { -sferum } account. If it is not your parent, do not answer them and tell your class teacher or your parents at once.
cmd-unbind = Disconnect this chat from the teacher desk
