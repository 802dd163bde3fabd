//! `Phone`: a Russian mobile number, kept in E.164 form (`+79XXXXXXXXX`).
//!
//! People type phone numbers in many ways (`+7 912 345-67-89`, `8 (912) 345 67 89`,
//! `89123456789`, `9123456789`, …). [`Phone::parse`] first reads the text itself: it keeps the
//! digits and an optional leading `+`, skips the usual separators (spaces of any kind, dashes,
//! dots, slashes, parentheses, invisible direction marks) and refuses anything else.
//!
//! The Russian shapes (`+7` and ten digits, `8` or `7` and ten digits, ten digits alone) are
//! settled here, digit by digit: the `phonenumber` crate strips a trunk prefix `8` a second time
//! from national numbers that start with 8 (`+7 800 …`, `+7 812 …`), so it is not trusted with
//! them. Every other shape (another country code, an international prefix `00` or `810`) goes to
//! `phonenumber` with Russia as the default region, which tells a foreign number (refused as
//! not a Russian mobile) from garbage. The final rule: country code 7 and a ten-digit national
//! number that starts with 9, i.e. a Russian mobile number.

use std::fmt;
use std::str::FromStr;

use phonenumber::country;
use serde::{Deserialize, Serialize};

/// Fewer digits than this cannot be a full number with its area or operator code.
const MIN_DIGITS: usize = 10;
/// E.164 allows at most 15 digits.
const MAX_DIGITS: usize = 15;
/// Any longer text is not a phone number, whatever it holds.
const MAX_INPUT_CHARS: usize = 64;
/// The length of a Russian national number (area or operator code and subscriber number).
const NATIONAL_LEN: usize = 10;

/// A Russian mobile phone number in E.164 form, `+79XXXXXXXXX`.
///
/// `Display` prints the full number (it is shown to its owner); `Debug` prints
/// [`Phone::masked`], so the number never reaches the logs in clear.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

/// Why a text is not a Russian mobile phone number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// Nothing but whitespace was given.
    #[error("the phone number is empty")]
    Empty,
    /// Letters or other symbols, or far too few or too many digits for a phone number.
    #[error("the text is not a phone number")]
    NotAPhone,
    /// A phone number, but not a Russian mobile one: a landline, a toll-free or a foreign number.
    #[error("the phone number is not a Russian mobile number")]
    NotMobile,
}

impl Phone {
    /// Parses any usual spelling of a Russian mobile number.
    ///
    /// ```
    /// use sferum_bot::domain::Phone;
    /// let phone = Phone::parse("8 (912) 345-67-89").unwrap();
    /// assert_eq!(phone.as_str(), "+79123456789");
    /// ```
    pub fn parse(raw: &str) -> Result<Phone, PhoneError> {
        let trimmed = raw.trim_matches(is_ignorable);
        if trimmed.is_empty() {
            return Err(PhoneError::Empty);
        }
        if trimmed.chars().count() > MAX_INPUT_CHARS {
            return Err(PhoneError::NotAPhone);
        }
        let (plus, digits) = scan(trimmed)?;
        if digits.len() < MIN_DIGITS {
            return Err(PhoneError::NotAPhone);
        }
        let national = match russian_national(plus, &digits) {
            Some(national) => national,
            None => return Err(classify_other(plus, &digits)),
        };
        match national.as_bytes().first() {
            Some(b'9') => Ok(Phone(format!("+7{national}"))),
            // Russian area codes (3xx, 4xx, 8xx: landlines, toll-free) and Kazakhstan (6xx, 7xx)
            // share the country code 7 but are not Russian mobile numbers.
            Some(b'3' | b'4' | b'6' | b'7' | b'8') => Err(PhoneError::NotMobile),
            _ => Err(PhoneError::NotAPhone),
        }
    }

    /// The number in E.164 form, `+79123456789`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number as people write it: `+7 912 345-67-89` (shown to its owner, to check it).
    pub fn spaced(&self) -> String {
        // The inner string is always `+7` followed by ten ASCII digits.
        let part = |range: std::ops::Range<usize>| self.0.get(range).unwrap_or("");
        format!(
            "+7 {} {}-{}-{}",
            part(2..5),
            part(5..8),
            part(8..10),
            part(10..12)
        )
    }

    /// The number with the middle hidden: `+7 912 ***-**-89` (operator code and last two digits).
    pub fn masked(&self) -> String {
        // The inner string is always `+7` followed by ten ASCII digits.
        let operator = self.0.get(2..5).unwrap_or("***");
        let last = self.0.get(10..12).unwrap_or("**");
        format!("+7 {operator} ***-**-{last}")
    }
}

/// Reads the digits and an optional leading `+`, skipping separators; anything else is refused.
fn scan(text: &str) -> Result<(bool, String), PhoneError> {
    let mut plus = false;
    let mut digits = String::with_capacity(MAX_DIGITS);
    for c in text.chars() {
        match c {
            '0'..='9' => {
                if digits.len() == MAX_DIGITS {
                    return Err(PhoneError::NotAPhone);
                }
                digits.push(c);
            }
            // A single `+`, before any digit (it may follow an opening parenthesis).
            '+' if !plus && digits.is_empty() => plus = true,
            c if is_separator(c) => {}
            _ => return Err(PhoneError::NotAPhone),
        }
    }
    Ok((plus, digits))
}

/// The ten-digit national number of a number written in one of the Russian shapes, if it is.
fn russian_national(plus: bool, digits: &str) -> Option<&str> {
    let len = digits.len();
    let first = digits.as_bytes().first().copied();
    match (plus, len, first) {
        // `+7 912 345-67-89`.
        (true, 11, Some(b'7')) => digits.get(1..),
        // `+8 912 345-67-89`: the trunk prefix written as if it were a country code (no country
        // code starts with 89, so nothing else is meant).
        (true, 11, Some(b'8')) if digits.starts_with("89") => digits.get(1..),
        // `8 912 345-67-89` (trunk prefix) and `7 912 345-67-89` (country code without its plus).
        (false, 11, Some(b'7' | b'8')) => digits.get(1..),
        // `8 912 345-67-8` or `7 912 345-67-8`: a mobile number with a digit missing, not a
        // national number (no Russian or Kazakh area code starts with 89 or 79).
        (false, NATIONAL_LEN, _) if digits.starts_with("89") || digits.starts_with("79") => None,
        // `912 345-67-89`.
        (false, NATIONAL_LEN, _) => Some(digits),
        _ => None,
    }
}

/// What a number that is not in a Russian shape is: a foreign number or not a phone at all.
fn classify_other(plus: bool, digits: &str) -> PhoneError {
    // `+7` with too few or too many digits.
    if plus && digits.starts_with('7') {
        return PhoneError::NotAPhone;
    }
    // The international prefix `00` (common on mobiles) is the same as a plus.
    let text = match digits.strip_prefix("00") {
        Some(rest) if !plus => format!("+{rest}"),
        _ if plus => format!("+{digits}"),
        // Russia's own international prefix `810` is known to `phonenumber`.
        _ => digits.to_owned(),
    };
    match phonenumber::parse(Some(country::Id::RU), &text) {
        Ok(number) if number.code().value() != 7 => PhoneError::NotMobile,
        _ => PhoneError::NotAPhone,
    }
}

/// Characters people put between the digits of a phone number.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || is_ignorable(c)
        || matches!(
            c,
            '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '.' | '/' | '(' | ')' | '[' | ']'
        )
}

/// Whitespace and invisible formatting characters (direction marks, zero-width spaces and
/// joiners, isolates, byte order mark) that copying a number from another app can bring along.
fn is_ignorable(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
        )
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

impl AsRef<str> for Phone {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for Phone {
    type Err = PhoneError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Phone::parse(s)
    }
}

impl TryFrom<String> for Phone {
    type Error = PhoneError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Phone::parse(&value)
    }
}

impl From<Phone> for String {
    fn from(phone: Phone) -> Self {
        phone.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const E164: &str = "+79123456789";

    #[test]
    fn accepts_every_usual_spelling() {
        let spellings = [
            "+7 912 345-67-89",
            "+7 (912) 345-67-89",
            "+7(912)345-67-89",
            "8 (912) 345 67 89",
            "8 912 345 67 89",
            "8-912-345-67-89",
            "89123456789",
            "79123456789",
            "9123456789",
            "+79123456789",
            "+7-912-345-67-89",
            "+7.912.345.67.89",
            "7 912 345 67 89",
            "(912) 345-67-89",
            "912 345 67 89",
            "  +7 912 345 67 89  ",
            "\t8 912 345 67 89\n",
            "+7\u{a0}912\u{a0}345\u{a0}67\u{a0}89",
            "+7\u{202f}912\u{202f}345\u{2011}67\u{2011}89",
            "8\u{2013}912\u{2013}345\u{2013}67\u{2013}89",
            "\u{2068}+7 912 345-67-89\u{2069}",
            "\u{feff}89123456789",
            "(+7) 912 345 67 89",
            "+8 912 345 67 89",
            "+89123456789",
            "8 (9123) 45-67-89",
        ];
        for raw in spellings {
            let phone = Phone::parse(raw).unwrap_or_else(|e| panic!("{raw:?}: {e:?}"));
            assert_eq!(phone.as_str(), E164, "{raw:?}");
        }
    }

    #[test]
    fn accepts_other_operators() {
        for (raw, e164) in [
            ("8 900 000 00 00", "+79000000000"),
            ("+7 999 999 99 99", "+79999999999"),
            ("8 (950) 123-45-67", "+79501234567"),
            ("+7 977 111 22 33", "+79771112233"),
        ] {
            assert_eq!(
                Phone::parse(raw).map(|p| p.to_string()),
                Ok(e164.to_owned()),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn rejects_what_is_not_a_russian_mobile() {
        let cases = [
            ("", PhoneError::Empty),
            ("   ", PhoneError::Empty),
            ("\u{a0}\t\n", PhoneError::Empty),
            ("не знаю", PhoneError::NotAPhone),
            ("abc", PhoneError::NotAPhone),
            ("+7 912 345 67 8", PhoneError::NotAPhone),
            ("912 345 67", PhoneError::NotAPhone),
            ("123-45-67", PhoneError::NotAPhone),
            ("+7 912 345 67 89 0", PhoneError::NotAPhone),
            ("8 912 345 67 89 01", PhoneError::NotAPhone),
            ("1234567890123456", PhoneError::NotAPhone),
            ("+7 912 345 67 89 доб. 12", PhoneError::NotAPhone),
            ("tel:+79123456789", PhoneError::NotAPhone),
            ("+7 912 345 67 8９", PhoneError::NotAPhone),
            ("++79123456789", PhoneError::NotAPhone),
            ("7+9123456789", PhoneError::NotAPhone),
            ("8 912 345 67 89, 8 912 345 67 88", PhoneError::NotAPhone),
            ("ivan@mail.ru", PhoneError::NotAPhone),
            ("+7 012 345 67 89", PhoneError::NotAPhone),
            ("+7 123 456 78 90", PhoneError::NotAPhone),
            ("8 912 345 67 8", PhoneError::NotAPhone),
            ("7 912 345 67 8", PhoneError::NotAPhone),
            ("+7 912 345 67 890", PhoneError::NotAPhone),
            ("+999 123 456 789", PhoneError::NotAPhone),
            ("+7 812 123 45 67", PhoneError::NotMobile),
            ("812 123 45 67", PhoneError::NotMobile),
            ("+7 800 555 35 35", PhoneError::NotMobile),
            ("3532 12 34 56", PhoneError::NotMobile),
            ("00 44 20 7946 0958", PhoneError::NotMobile),
            ("8 10 44 20 7946 0958", PhoneError::NotMobile),
            ("+86 138 0013 8000", PhoneError::NotMobile),
            ("8 3532 123456", PhoneError::NotMobile),
            ("+7 (3532) 12-34-56", PhoneError::NotMobile),
            ("8 495 123 45 67", PhoneError::NotMobile),
            ("8 800 555 35 35", PhoneError::NotMobile),
            ("+7 701 123 45 67", PhoneError::NotMobile),
            ("+7 777 123 45 67", PhoneError::NotMobile),
            ("+44 20 7946 0958", PhoneError::NotMobile),
            ("+44 7911 123456", PhoneError::NotMobile),
            ("+1 202 555 0143", PhoneError::NotMobile),
            ("+380 50 123 4567", PhoneError::NotMobile),
            ("+375 29 123 45 67", PhoneError::NotMobile),
        ];
        for (raw, expected) in cases {
            assert_eq!(Phone::parse(raw), Err(expected), "{raw:?}");
        }
    }

    #[test]
    fn masked_keeps_operator_code_and_last_two_digits() {
        let phone = Phone::parse("+7 912 345-67-89").unwrap();
        assert_eq!(phone.masked(), "+7 912 ***-**-89");
        assert_eq!(phone.spaced(), "+7 912 345-67-89");
    }

    #[test]
    fn debug_is_masked_and_display_is_full() {
        let phone = Phone::parse("89123456789").unwrap();
        assert_eq!(format!("{phone:?}"), "Phone(+7 912 ***-**-89)");
        assert_eq!(format!("{phone}"), E164);
        assert!(!format!("{:?}", Some(&phone)).contains("3456"));
    }

    #[test]
    fn serde_uses_the_e164_string_and_validates() {
        let phone = Phone::parse("8 912 345 67 89").unwrap();
        assert_eq!(serde_json::to_string(&phone).unwrap(), "\"+79123456789\"");
        let back: Phone = serde_json::from_str("\"+79123456789\"").unwrap();
        assert_eq!(back, phone);
        assert!(serde_json::from_str::<Phone>("\"+7 3532 123456\"").is_err());
        assert!(serde_json::from_str::<Phone>("\"hello\"").is_err());
        assert!(serde_json::from_str::<Phone>("79123456789").is_err());
    }

    #[test]
    fn errors_are_plain_english_for_logs() {
        assert_eq!(
            PhoneError::NotMobile.to_string(),
            "the phone number is not a Russian mobile number"
        );
    }

    /// Every spelling of one national number `9XXXXXXXXX`.
    fn spellings(national: &str) -> Vec<String> {
        let (op, rest) = national.split_at(3);
        let (a, rest) = rest.split_at(3);
        let (b, c) = rest.split_at(2);
        vec![
            format!("+7{national}"),
            format!("8{national}"),
            format!("7{national}"),
            national.to_owned(),
            format!("+7 {op} {a}-{b}-{c}"),
            format!("+7 ({op}) {a}-{b}-{c}"),
            format!("8 ({op}) {a} {b} {c}"),
            format!("8-{op}-{a}-{b}-{c}"),
            format!("7.{op}.{a}.{b}.{c}"),
            format!("({op}) {a}-{b}-{c}"),
            format!("+7\u{a0}{op}\u{a0}{a}\u{a0}{b}\u{a0}{c}"),
            format!("  +7-{op}-{a}-{b}-{c}\t"),
        ]
    }

    proptest! {
        #[test]
        fn parse_never_panics(raw in any::<String>()) {
            let _ = Phone::parse(&raw);
        }

        #[test]
        fn parse_never_panics_on_phone_like_text(raw in "[+0-9 ()\\-.\u{a0}]{0,40}") {
            let _ = Phone::parse(&raw);
        }

        #[test]
        fn parse_never_panics_on_digit_strings(plus in any::<bool>(), digits in "[0-9]{0,20}") {
            let raw = if plus { format!("+{digits}") } else { digits };
            let _ = Phone::parse(&raw);
        }

        #[test]
        fn parse_never_panics_on_long_or_control_text(raw in "[\\x00-\\x1f0-9+\u{7f}-\u{9f}]{0,300}") {
            let _ = Phone::parse(&raw);
        }

        #[test]
        fn every_spelling_normalises_to_the_same_e164(national in "9[0-9]{9}") {
            let expected = format!("+7{national}");
            for raw in spellings(&national) {
                let phone = Phone::parse(&raw);
                prop_assert_eq!(phone.as_ref().map(Phone::as_str), Ok(expected.as_str()), "{:?}", raw);
            }
        }

        #[test]
        fn non_mobile_russian_numbers_are_refused(national in "[1-8][0-9]{9}") {
            let result = Phone::parse(&format!("+7{national}"));
            prop_assert!(matches!(result, Err(PhoneError::NotMobile | PhoneError::NotAPhone)), "{:?}", result);
        }

        #[test]
        fn masked_never_holds_the_number(national in "9[0-9]{9}") {
            let phone = Phone::parse(&national).unwrap();
            let masked = phone.masked();
            let masked_digits: String = masked.chars().filter(char::is_ascii_digit).collect();
            prop_assert!(!masked.contains(phone.as_str()));
            prop_assert!(!masked_digits.contains(&national));
            let debug = format!("{phone:?}");
            prop_assert!(!debug.contains(&national[3..8]));
        }

        #[test]
        fn serde_round_trips(national in "9[0-9]{9}") {
            let phone = Phone::parse(&national).unwrap();
            let json = serde_json::to_string(&phone).unwrap();
            let back: Phone = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, phone);
        }

        #[test]
        fn a_parsed_phone_reparses_to_itself(raw in "(\\+7|8|7)?[ -]?\\(?9[0-9]{2}\\)?[ -]?[0-9]{3}[ -]?[0-9]{2}[ -]?[0-9]{2}") {
            let phone = Phone::parse(&raw).unwrap();
            prop_assert_eq!(Phone::parse(phone.as_str()), Ok(phone.clone()));
            let shown = phone.to_string();
            prop_assert_eq!(Phone::parse(&shown), Ok(phone));
        }
    }
}
