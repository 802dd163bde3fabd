//! How the person's own words were taken, for the operators: answered, asked back («Вы про
//! это?»), or not understood — and then the question itself, masked, so the content owner can
//! write the next answers without ever seeing a phone, an e-mail, a code or a name.

use super::route::Router;
use crate::script::ListeningRules;

/// What became of a message in the person's own words (not a value, not a button).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// A question the bot answered.
    Answered,
    /// A question the bot asked back about («Вы про это?»).
    Clarified,
    /// Nothing the bot could use; the question, masked with [`mask_question`].
    NotUnderstood { question: String },
}

impl Heard {
    /// The outcome's name in metrics.
    pub fn outcome(&self) -> &'static str {
        match self {
            Heard::Answered => "answered",
            Heard::Clarified => "clarified",
            Heard::NotUnderstood { .. } => "not_understood",
        }
    }
}

/// The mark of a masked digit run (a phone, a code, a class number, a date).
pub const DIGITS: &str = "#";
/// The mark of a masked e-mail address (or anything with an `@`).
pub const EMAIL: &str = "@";
/// The mark of a masked name-like word.
pub const NAME: &str = "*";
/// The longest masked question kept, in characters.
const QUESTION_LIMIT: usize = 200;
/// Endings of Russian patronymics and surnames: a word with one that the bot does not know
/// from its questions is taken for a name.
const NAME_ENDINGS: &[&str] = &[
    "вич", "вна", "чна", "ична", "оглы", "кызы", "ов", "ова", "ев", "ева", "ёв", "ёва", "ин",
    "ина", "ын", "ына", "ский", "ская", "цкий", "цкая", "енко", "ук", "юк",
];

/// `text` made safe to keep and count: lower case, punctuation dropped, every digit run
/// [`DIGITS`], every word with an `@` [`EMAIL`], and every name-like word [`NAME`] — one
/// written with a capital that the bot does not know from its questions, a short first name
/// (`name_diminutives`), or a word the bot does not know that ends like a patronymic or a
/// surname. Two people asking the same thing in different case or punctuation count as one.
pub fn mask_question(text: &str, router: &Router, listening: &ListeningRules) -> String {
    let mut words: Vec<String> = Vec::new();
    for raw in text.split_whitespace() {
        let token = raw.trim_matches(|c: char| !c.is_alphanumeric() && c != '@');
        if token.is_empty() {
            continue;
        }
        let word = if token.contains('@') {
            EMAIL.to_owned()
        } else if token.chars().any(|c| c.is_ascii_digit()) {
            mask_digits(token)
        } else if name_like(token, router, listening) {
            NAME.to_owned()
        } else {
            token.to_lowercase()
        };
        // One mark for a run of them: «Иванова Мария» is one name.
        if words
            .last()
            .is_some_and(|last| last == &word && is_mark(&word))
        {
            continue;
        }
        words.push(word);
    }
    let joined = words.join(" ");
    joined.chars().take(QUESTION_LIMIT).collect()
}

fn is_mark(word: &str) -> bool {
    [DIGITS, EMAIL, NAME].contains(&word)
}

/// Every run of digits (with the separators people put inside numbers) becomes one mark.
fn mask_digits(token: &str) -> String {
    let mut out = String::new();
    let mut in_number = false;
    for c in token.chars() {
        if c.is_ascii_digit() || (in_number && matches!(c, '-' | '.' | '+' | '(' | ')')) {
            if !in_number {
                out.push_str(DIGITS);
                in_number = true;
            }
        } else {
            in_number = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

fn name_like(word: &str, router: &Router, listening: &ListeningRules) -> bool {
    let lower = word.to_lowercase();
    if listening
        .name_diminutives
        .iter()
        .any(|n| n.to_lowercase() == lower)
    {
        return true;
    }
    if router.knows_a_word(&lower) {
        return false;
    }
    let capitalised = word.chars().next().is_some_and(char::is_uppercase);
    capitalised || NAME_ENDINGS.iter().any(|e| lower.ends_with(e))
}
