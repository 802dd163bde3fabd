//! `ChildName`: a student's full name as the registration service records it.
//!
//! People type "Фамилия Имя" or "Фамилия Имя Отчество" with any spacing, sometimes with commas,
//! in any letter case. [`ChildName::parse`] splits the words, checks each one and writes it in
//! the usual capitalised form: "иванова-петрова  мария," becomes "Иванова-Петрова Мария".
//!
//! A word is made of letters of one alphabet, Cyrillic (with ё and the letters of the peoples of
//! Russia) or Latin, and may hold a hyphen or an apostrophe between two letters (Салтыков-Щедрин,
//! Д'Артаньян). A Turkic patronymic written with its particle ("Рашид оглы", "Алиевна кызы") is
//! kept whole as the middle name, the particle in lower case.
//!
//! It serialises as the service contract's `child` object:
//! `{"last_name": …, "first_name": …, "middle_name": …}`, with `middle_name` left out when absent.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The longest word accepted, in characters.
const MAX_WORD_CHARS: usize = 50;
/// The particles that follow a Turkic patronymic and belong to it.
const PATRONYMIC_PARTICLES: [&str; 5] = ["оглы", "кызы", "улы", "уулу", "гызы"];

/// A child's last name, first name and optional middle name (patronymic), each capitalised.
///
/// `Display` prints "Петров Иван Сергеевич"; `Debug` prints only initials.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "NameFields")]
pub struct ChildName {
    last_name: String,
    first_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    middle_name: Option<String>,
}

/// Why a text is not a child's full name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Nothing but whitespace was given.
    #[error("the name is empty")]
    Empty,
    /// Only one word: both the last name and the first name are needed.
    #[error("the name needs a last name and a first name")]
    TooFewWords,
    /// More than last name, first name and middle name.
    #[error("the name has more than three words")]
    TooManyWords,
    /// A digit, an emoji, or punctuation other than a hyphen or an apostrophe inside a word.
    #[error("the name has a character that is not a letter")]
    BadCharacter,
    /// A word longer than 50 characters.
    #[error("a word of the name is longer than {MAX_WORD_CHARS} characters")]
    WordTooLong,
}

impl ChildName {
    /// Parses "Фамилия Имя" or "Фамилия Имя Отчество".
    ///
    /// ```
    /// use sferum_bot::domain::ChildName;
    /// let name = ChildName::parse("  петров,  иван сергеевич ").unwrap();
    /// assert_eq!(name.last_name(), "Петров");
    /// assert_eq!(name.first_name(), "Иван");
    /// assert_eq!(name.middle_name(), Some("Сергеевич"));
    /// assert_eq!(name.to_string(), "Петров Иван Сергеевич");
    /// ```
    pub fn parse(raw: &str) -> Result<ChildName, NameError> {
        let text = clean(raw);
        if text.trim().is_empty() {
            return Err(NameError::Empty);
        }
        let words = text
            .split(is_word_separator)
            .filter(|w| !w.is_empty())
            .map(normalise_word)
            .collect::<Result<Vec<_>, _>>()?;
        match words.as_slice() {
            [] | [_] => Err(NameError::TooFewWords),
            [last, first] => Ok(ChildName::new(last, first, None)),
            [last, first, middle] => Ok(ChildName::new(last, first, Some(middle.clone()))),
            [last, first, middle, particle] if is_particle(particle) => Ok(ChildName::new(
                last,
                first,
                Some(with_particle(middle, particle)),
            )),
            _ => Err(NameError::TooManyWords),
        }
    }

    /// Builds a name from its separate parts, with the same checks and normalisation as
    /// [`ChildName::parse`]. An empty or blank middle name counts as absent.
    pub fn from_parts(
        last_name: &str,
        first_name: &str,
        middle_name: Option<&str>,
    ) -> Result<ChildName, NameError> {
        let last = single_word(last_name)?;
        let first = single_word(first_name)?;
        let middle = match middle_name.map(clean) {
            Some(text) if !text.trim().is_empty() => Some(middle_part(&text)?),
            _ => None,
        };
        Ok(ChildName::new(&last, &first, middle))
    }

    fn new(last: &str, first: &str, middle: Option<String>) -> ChildName {
        ChildName {
            last_name: last.to_owned(),
            first_name: first.to_owned(),
            middle_name: middle,
        }
    }

    /// The last name (фамилия).
    pub fn last_name(&self) -> &str {
        &self.last_name
    }

    /// The first name (имя).
    pub fn first_name(&self) -> &str {
        &self.first_name
    }

    /// The middle name (отчество), when given.
    pub fn middle_name(&self) -> Option<&str> {
        self.middle_name.as_deref()
    }

    /// Only the initials, for logs: `П*** И***`.
    pub fn masked(&self) -> String {
        format!(
            "{}*** {}***",
            first_char(&self.last_name),
            first_char(&self.first_name)
        )
    }
}

/// Composes the decomposed spellings of й and ё (some keyboards send и + breve, е + diaeresis)
/// and drops invisible formatting characters.
fn clean(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        let composed = match (out.chars().last(), c) {
            (Some('и'), '\u{0306}') => Some('й'),
            (Some('И'), '\u{0306}') => Some('Й'),
            (Some('е'), '\u{0308}') => Some('ё'),
            (Some('Е'), '\u{0308}') => Some('Ё'),
            _ => None,
        };
        if let Some(letter) = composed {
            out.pop();
            out.push(letter);
        } else if !is_invisible(c) {
            out.push(c);
        }
    }
    out
}

fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
    )
}

fn is_word_separator(c: char) -> bool {
    c.is_whitespace() || c == ','
}

fn is_particle(word: &str) -> bool {
    let lower = word.to_lowercase();
    PATRONYMIC_PARTICLES.contains(&lower.as_str())
}

fn with_particle(middle: &str, particle: &str) -> String {
    format!("{middle} {}", particle.to_lowercase())
}

/// One word given on its own (a last or first name from a form or from storage).
fn single_word(raw: &str) -> Result<String, NameError> {
    let text = clean(raw);
    let mut words = text.split(is_word_separator).filter(|w| !w.is_empty());
    match (words.next(), words.next()) {
        (None, _) => Err(NameError::Empty),
        (Some(word), None) => normalise_word(word),
        (Some(_), Some(_)) => Err(NameError::TooManyWords),
    }
}

/// A middle name given on its own: one word, or a patronymic and its particle.
fn middle_part(text: &str) -> Result<String, NameError> {
    let words = text
        .split(is_word_separator)
        .filter(|w| !w.is_empty())
        .map(normalise_word)
        .collect::<Result<Vec<_>, _>>()?;
    match words.as_slice() {
        [] => Err(NameError::Empty),
        [middle] => Ok(middle.clone()),
        [middle, particle] if is_particle(particle) => Ok(with_particle(middle, particle)),
        _ => Err(NameError::TooManyWords),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Script {
    Cyrillic,
    Latin,
}

fn script_of(c: char) -> Option<Script> {
    if !c.is_alphabetic() {
        return None;
    }
    match c {
        // Basic Cyrillic (Russian, with ё, and the other Slavic letters) and the letters of the
        // peoples of Russia (Tatar, Bashkir, Kazakh, …); historic letters and marks are left out.
        '\u{0400}'..='\u{045F}' | '\u{048A}'..='\u{04FF}' => Some(Script::Cyrillic),
        'A'..='Z' | 'a'..='z' | '\u{00C0}'..='\u{024F}' | '\u{0259}' => Some(Script::Latin),
        _ => None,
    }
}

fn is_hyphen(c: char) -> bool {
    matches!(c, '-' | '\u{2010}' | '\u{2011}')
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{02BC}')
}

/// Checks one word and writes it capitalised, each hyphenated part on its own.
fn normalise_word(word: &str) -> Result<String, NameError> {
    let mut out = String::with_capacity(word.len());
    let mut script = None;
    // Whether the previous character was a letter; a hyphen or apostrophe needs one on each side.
    let mut after_letter = false;
    // Whether the next letter starts a part (the word or a hyphenated piece of it).
    let mut part_start = true;
    let mut count = 0usize;
    for c in word.chars() {
        count += 1;
        if count > MAX_WORD_CHARS {
            return Err(NameError::WordTooLong);
        }
        if let Some(this) = script_of(c) {
            if script.is_some_and(|s| s != this) {
                return Err(NameError::BadCharacter);
            }
            script = Some(this);
            out.push(if part_start { upper(c) } else { lower(c) });
            after_letter = true;
            part_start = false;
        } else if (is_hyphen(c) || is_apostrophe(c)) && after_letter {
            out.push(if is_hyphen(c) { '-' } else { '\'' });
            after_letter = false;
            part_start = is_hyphen(c);
        } else {
            return Err(NameError::BadCharacter);
        }
    }
    if !after_letter {
        // Empty, or ends with a hyphen or an apostrophe.
        return Err(NameError::BadCharacter);
    }
    Ok(out)
}

/// The upper-case form of a letter when it is one letter of the same alphabet, else the letter.
fn upper(c: char) -> char {
    same_script_single(c, c.to_uppercase())
}

/// The lower-case form of a letter when it is one letter of the same alphabet, else the letter.
fn lower(c: char) -> char {
    same_script_single(c, c.to_lowercase())
}

fn same_script_single(c: char, mut mapped: impl Iterator<Item = char>) -> char {
    match (mapped.next(), mapped.next()) {
        (Some(m), None) if script_of(m).is_some() && script_of(m) == script_of(c) => m,
        _ => c,
    }
}

fn first_char(word: &str) -> char {
    word.chars().next().unwrap_or('*')
}

/// The contract's `child` object as read from JSON, before its checks.
#[derive(Deserialize)]
struct NameFields {
    last_name: String,
    first_name: String,
    #[serde(default)]
    middle_name: Option<String>,
}

impl TryFrom<NameFields> for ChildName {
    type Error = NameError;

    fn try_from(fields: NameFields) -> Result<Self, Self::Error> {
        ChildName::from_parts(
            &fields.last_name,
            &fields.first_name,
            fields.middle_name.as_deref(),
        )
    }
}

impl fmt::Display for ChildName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.last_name, self.first_name)?;
        if let Some(middle) = &self.middle_name {
            write!(f, " {middle}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ChildName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChildName({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Last, first and middle name.
    type Parts<'a> = (&'a str, &'a str, Option<&'a str>);

    fn parts(name: &ChildName) -> Parts<'_> {
        (name.last_name(), name.first_name(), name.middle_name())
    }

    #[test]
    fn accepts_and_normalises() {
        let cases: [(&str, Parts<'_>); 20] = [
            ("Петров Иван", ("Петров", "Иван", None)),
            (
                "Петров Иван Сергеевич",
                ("Петров", "Иван", Some("Сергеевич")),
            ),
            (
                "петров иван сергеевич",
                ("Петров", "Иван", Some("Сергеевич")),
            ),
            ("ПЕТРОВ ИВАН", ("Петров", "Иван", None)),
            ("  пЕТРОВ   иВАН  ", ("Петров", "Иван", None)),
            (
                "Петров, Иван, Сергеевич",
                ("Петров", "Иван", Some("Сергеевич")),
            ),
            ("Петров,Иван", ("Петров", "Иван", None)),
            (
                "Петров\tИван\nСергеевич",
                ("Петров", "Иван", Some("Сергеевич")),
            ),
            ("Петров\u{a0}Иван", ("Петров", "Иван", None)),
            ("иванова-петрова мария", ("Иванова-Петрова", "Мария", None)),
            (
                "Салтыков-Щедрин Михаил Евграфович",
                ("Салтыков-Щедрин", "Михаил", Some("Евграфович")),
            ),
            ("Ёлкин Семён", ("Ёлкин", "Семён", None)),
            ("ёлкина алёна", ("Ёлкина", "Алёна", None)),
            ("д'артаньян шарль", ("Д'артаньян", "Шарль", None)),
            ("Д’Артаньян Шарль", ("Д'артаньян", "Шарль", None)),
            ("smith john", ("Smith", "John", None)),
            ("O'Brien Anna-Maria", ("O'brien", "Anna-Maria", None)),
            (
                "Мамедов Али Рашид оглы",
                ("Мамедов", "Али", Some("Рашид оглы")),
            ),
            (
                "алиева лейла рашид КЫЗЫ",
                ("Алиева", "Лейла", Some("Рашид кызы")),
            ),
            (
                "Гайнуллина Гөлнара Рамилевна",
                ("Гайнуллина", "Гөлнара", Some("Рамилевна")),
            ),
        ];
        for (raw, expected) in cases {
            let name = ChildName::parse(raw).unwrap_or_else(|e| panic!("{raw:?}: {e:?}"));
            assert_eq!(parts(&name), expected, "{raw:?}");
        }
    }

    #[test]
    fn composes_decomposed_letters() {
        let name = ChildName::parse("Ёлкин Сергеи\u{306} Петрович").unwrap();
        assert_eq!(name.first_name(), "Сергей");
        let name = ChildName::parse("Е\u{308}лкин Семе\u{308}н").unwrap();
        assert_eq!(parts(&name), ("Ёлкин", "Семён", None));
        let name = ChildName::parse("\u{2068}Петров Иван\u{2069}").unwrap();
        assert_eq!(parts(&name), ("Петров", "Иван", None));
    }

    #[test]
    fn rejects() {
        let long = "а".repeat(51);
        let fifty = "а".repeat(50);
        let cases: Vec<(String, NameError)> = vec![
            ("".into(), NameError::Empty),
            ("   ".into(), NameError::Empty),
            ("\u{a0}\n".into(), NameError::Empty),
            ("Петров".into(), NameError::TooFewWords),
            ("  Петров , ".into(), NameError::TooFewWords),
            (",,,".into(), NameError::TooFewWords),
            (
                "Петров Иван Сергеевич Младший".into(),
                NameError::TooManyWords,
            ),
            ("Меня зовут Иван Петров".into(), NameError::TooManyWords),
            (
                "Мамедов Али Рашид оглы кызы".into(),
                NameError::TooManyWords,
            ),
            ("Петров Иван 2".into(), NameError::BadCharacter),
            ("Петров2 Иван".into(), NameError::BadCharacter),
            ("Петров Иван 😀".into(), NameError::BadCharacter),
            ("Петров Иван.".into(), NameError::BadCharacter),
            ("Петров; Иван".into(), NameError::BadCharacter),
            ("Петров Иван!".into(), NameError::BadCharacter),
            ("Петров (Иван)".into(), NameError::BadCharacter),
            ("Петров - Иван".into(), NameError::BadCharacter),
            ("-Петров Иван".into(), NameError::BadCharacter),
            ("Петров- Иван".into(), NameError::BadCharacter),
            ("Петров--Иванов Иван".into(), NameError::BadCharacter),
            ("Петров-'Иванов Иван".into(), NameError::BadCharacter),
            ("'Петров Иван".into(), NameError::BadCharacter),
            ("Петров Иван'".into(), NameError::BadCharacter),
            ("Пeтров Иван".into(), NameError::BadCharacter), // Latin e among Cyrillic letters
            ("Петров Иван\u{0}".into(), NameError::BadCharacter),
            ("Петров Ива\u{301}н".into(), NameError::BadCharacter),
            ("Πέτρος Ιβάν".into(), NameError::BadCharacter),
            ("ivan@mail.ru Петров".into(), NameError::BadCharacter),
            ("+79123456789 Петров".into(), NameError::BadCharacter),
            (format!("{long} Иван"), NameError::WordTooLong),
            (format!("Петров {fifty}{fifty}"), NameError::WordTooLong),
        ];
        for (raw, expected) in cases {
            assert_eq!(ChildName::parse(&raw), Err(expected), "{raw:?}");
        }
        assert!(ChildName::parse(&format!("{fifty} Иван")).is_ok());
    }

    #[test]
    fn display_debug() {
        let name = ChildName::parse("петров иван сергеевич").unwrap();
        assert_eq!(name.to_string(), "Петров Иван Сергеевич");
        assert_eq!(format!("{name:?}"), "ChildName(П*** И***)");
        assert_eq!(name.masked(), "П*** И***");
        let short = ChildName::parse("петров иван").unwrap();
        assert_eq!(short.to_string(), "Петров Иван");
        assert!(!format!("{:?}", Some(&short)).contains("Петров"));
    }

    #[test]
    fn serde_matches_the_contract_child_object() {
        let full = ChildName::parse("Петров Иван Сергеевич").unwrap();
        assert_eq!(
            serde_json::to_string(&full).unwrap(),
            r#"{"last_name":"Петров","first_name":"Иван","middle_name":"Сергеевич"}"#
        );
        let short = ChildName::parse("Петров Иван").unwrap();
        assert_eq!(
            serde_json::to_string(&short).unwrap(),
            r#"{"last_name":"Петров","first_name":"Иван"}"#
        );
        for json in [
            r#"{"last_name":"петров","first_name":"иван"}"#,
            r#"{"last_name":"Петров","first_name":"Иван","middle_name":null}"#,
            r#"{"last_name":"Петров","first_name":"Иван","middle_name":"  "}"#,
        ] {
            assert_eq!(
                serde_json::from_str::<ChildName>(json).unwrap(),
                short,
                "{json}"
            );
        }
        let back: ChildName = serde_json::from_str(&serde_json::to_string(&full).unwrap()).unwrap();
        assert_eq!(back, full);
        for bad in [
            r#"{"last_name":"Петров2","first_name":"Иван"}"#,
            r#"{"last_name":"","first_name":"Иван"}"#,
            r#"{"last_name":"Петров Иванов","first_name":"Иван"}"#,
            r#"{"last_name":"Петров"}"#,
            r#""Петров Иван""#,
        ] {
            assert!(serde_json::from_str::<ChildName>(bad).is_err(), "{bad}");
        }
        let particle = ChildName::parse("Мамедов Али Рашид оглы").unwrap();
        let json = serde_json::to_string(&particle).unwrap();
        assert_eq!(serde_json::from_str::<ChildName>(&json).unwrap(), particle);
    }

    #[test]
    fn from_parts() {
        let name = ChildName::from_parts(" иванова-петрова ", "мария", Some("")).unwrap();
        assert_eq!(parts(&name), ("Иванова-Петрова", "Мария", None));
        assert_eq!(
            ChildName::from_parts("", "Иван", None),
            Err(NameError::Empty)
        );
        assert_eq!(
            ChildName::from_parts("Петров", "Иван Иван", None),
            Err(NameError::TooManyWords)
        );
    }

    /// A name word: Cyrillic or Latin letters, maybe hyphenated, in any case.
    fn word() -> impl Strategy<Value = String> {
        prop_oneof![
            "[а-яёА-ЯЁ]{1,15}(-[а-яёА-ЯЁ]{1,15})?",
            "[a-zA-Z]{1,15}('[a-zA-Z]{1,10})?",
        ]
    }

    proptest! {
        #[test]
        fn parse_never_panics(raw in any::<String>()) {
            let _ = ChildName::parse(&raw);
        }

        #[test]
        fn parse_never_panics_on_long_or_control_text(raw in "[а-яa-z ,\\-'\\x00-\\x1f\u{306}\u{308}]{0,400}") {
            let _ = ChildName::parse(&raw);
        }

        #[test]
        fn parse_never_panics_on_latin_extended(raw in "[\u{c0}-\u{24f} ]{0,60}") {
            if let Ok(name) = ChildName::parse(&raw) {
                prop_assert_eq!(ChildName::parse(&name.to_string()), Ok(name));
            }
        }

        #[test]
        fn a_parsed_name_reparses_to_itself(
            words in prop::collection::vec(word(), 2..=3),
            sep in "( +|, ?|\t)",
        ) {
            let raw = words.join(&sep);
            let name = ChildName::parse(&raw).unwrap();
            prop_assert_eq!(ChildName::parse(&name.to_string()), Ok(name.clone()));
            prop_assert_eq!(name.last_name().to_lowercase(), words[0].to_lowercase());
            let json = serde_json::to_string(&name).unwrap();
            prop_assert_eq!(serde_json::from_str::<ChildName>(&json).unwrap(), name.clone());
            // What Debug shows of the name itself (not the type's own name, which holds «Na»).
            let debug = format!("{name:?}");
            let shown = debug.trim_start_matches("ChildName(");
            prop_assert!(!shown.contains(name.last_name()) || name.last_name().chars().count() == 1);
        }
    }
}
