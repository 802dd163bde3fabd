//! `VerificationCode`: the one-time code a person received by SMS or email and types back.
//!
//! The service says how many digits a code has (`code_length`), so [`VerificationCode::parse`]
//! takes that length. People often type codes in groups (`123 456`, `123-456`): whitespace
//! anywhere and single dashes between digits are dropped. What remains must be ASCII digits only.
//! A code is a secret for as long as it is valid: `Debug` never shows it, and there is no
//! `Display`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The longest code accepted when reading one back from storage, where the length the service
/// announced is not at hand.
const MAX_STORED_LEN: usize = 32;

/// A verification code: ASCII digits only, of the length the service announced.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VerificationCode(String);

/// Why a text is not the expected verification code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// Nothing but whitespace was given.
    #[error("the code is empty")]
    Empty,
    /// Something other than digits, spaces and dashes between digits.
    #[error("the code must consist of digits only")]
    NotDigits,
    /// Digits only, but not as many as the service sent.
    #[error("the code must have {expected} digits, got {got}")]
    WrongLength { expected: usize, got: usize },
}

impl VerificationCode {
    /// Parses a code of `expected_len` digits, dropping whitespace and dashes between digits.
    ///
    /// ```
    /// use sferum_bot::domain::{CodeError, VerificationCode};
    /// assert_eq!(VerificationCode::parse(" 123-456 ", 6).unwrap().as_str(), "123456");
    /// assert_eq!(
    ///     VerificationCode::parse("12345", 6),
    ///     Err(CodeError::WrongLength { expected: 6, got: 5 })
    /// );
    /// ```
    pub fn parse(raw: &str, expected_len: usize) -> Result<VerificationCode, CodeError> {
        let digits = digits_of(raw)?;
        if digits.len() != expected_len {
            return Err(CodeError::WrongLength {
                expected: expected_len,
                got: digits.len(),
            });
        }
        Ok(VerificationCode(digits))
    }

    /// The code's digits, as the service expects them.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// How many digits the code has.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always `false`: a code has at least one digit.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The digits of a typed code: whitespace dropped anywhere, a dash dropped between two digits.
fn digits_of(raw: &str) -> Result<String, CodeError> {
    let compact: Vec<char> = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return Err(CodeError::Empty);
    }
    let mut digits = String::with_capacity(compact.len());
    for (i, &c) in compact.iter().enumerate() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else if is_dash(c)
            && i > 0
            && is_digit_at(&compact, i - 1)
            && is_digit_at(&compact, i + 1)
        {
            // A separator between two digit groups.
        } else {
            return Err(CodeError::NotDigits);
        }
    }
    Ok(digits)
}

fn is_digit_at(chars: &[char], i: usize) -> bool {
    chars.get(i).is_some_and(char::is_ascii_digit)
}

fn is_dash(c: char) -> bool {
    matches!(c, '-' | '\u{2010}'..='\u{2015}' | '\u{2212}')
}

impl fmt::Debug for VerificationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerificationCode(******)")
    }
}

impl TryFrom<String> for VerificationCode {
    type Error = CodeError;

    /// Reads a stored code back: its canonical form, 1 to 32 ASCII digits.
    fn try_from(value: String) -> Result<Self, Self::Error> {
        if value.is_empty() {
            return Err(CodeError::Empty);
        }
        if !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CodeError::NotDigits);
        }
        if value.len() > MAX_STORED_LEN {
            return Err(CodeError::WrongLength {
                expected: MAX_STORED_LEN,
                got: value.len(),
            });
        }
        Ok(VerificationCode(value))
    }
}

impl From<VerificationCode> for String {
    fn from(code: VerificationCode) -> Self {
        code.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_grouped_spellings() {
        let cases = [
            ("123456", "123456"),
            ("123 456", "123456"),
            ("123-456", "123456"),
            ("  123456\n", "123456"),
            ("1 2 3 4 5 6", "123456"),
            ("12-34-56", "123456"),
            ("123 - 456", "123456"),
            ("123\u{a0}456", "123456"),
            ("123\u{2013}456", "123456"),
            ("000000", "000000"),
        ];
        for (raw, expected) in cases {
            assert_eq!(
                VerificationCode::parse(raw, 6).map(|c| c.as_str().to_owned()),
                Ok(expected.to_owned()),
                "{raw:?}"
            );
        }
        assert_eq!(VerificationCode::parse("1234", 4).unwrap().as_str(), "1234");
    }

    fn wrong(got: usize) -> CodeError {
        CodeError::WrongLength { expected: 6, got }
    }

    #[test]
    fn rejects() {
        let cases = [
            ("", CodeError::Empty),
            ("   ", CodeError::Empty),
            ("\u{a0}\t", CodeError::Empty),
            ("abcdef", CodeError::NotDigits),
            ("код 123456", CodeError::NotDigits),
            ("12345б", CodeError::NotDigits),
            ("１２３４５６", CodeError::NotDigits),
            ("١٢٣٤٥٦", CodeError::NotDigits),
            ("-123456", CodeError::NotDigits),
            ("123456-", CodeError::NotDigits),
            ("123--456", CodeError::NotDigits),
            ("-", CodeError::NotDigits),
            ("123.456", CodeError::NotDigits),
            ("123_456", CodeError::NotDigits),
            ("+123456", CodeError::NotDigits),
            ("12345", wrong(5)),
            ("1234567", wrong(7)),
            ("123 45", wrong(5)),
        ];
        for (raw, expected) in cases {
            assert_eq!(VerificationCode::parse(raw, 6), Err(expected), "{raw:?}");
        }
    }

    #[test]
    fn debug_hides_the_code() {
        let code = VerificationCode::parse("123456", 6).unwrap();
        assert_eq!(format!("{code:?}"), "VerificationCode(******)");
        assert_eq!(code.len(), 6);
        assert!(!code.is_empty());
    }

    #[test]
    fn serde_is_a_validated_string() {
        let code = VerificationCode::parse("123 456", 6).unwrap();
        assert_eq!(serde_json::to_string(&code).unwrap(), "\"123456\"");
        assert_eq!(
            serde_json::from_str::<VerificationCode>("\"123456\"").unwrap(),
            code
        );
        assert!(serde_json::from_str::<VerificationCode>("\"12a456\"").is_err());
        assert!(serde_json::from_str::<VerificationCode>("\"\"").is_err());
        assert!(serde_json::from_str::<VerificationCode>("\"123 456\"").is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(raw in any::<String>(), len in 0usize..12) {
            let _ = VerificationCode::parse(&raw, len);
        }

        #[test]
        fn parse_never_panics_on_long_or_control_text(raw in "[0-9 \\-\\x00-\\x1f]{0,500}") {
            let _ = VerificationCode::parse(&raw, 6);
        }

        #[test]
        fn grouped_codes_normalise(digits in "[0-9]{4,8}", split in 1usize..4, sep in "( |-| - |\u{a0})") {
            let split = split.min(digits.len() - 1);
            let raw = format!(" {}{}{} ", &digits[..split], sep, &digits[split..]);
            let code = VerificationCode::parse(&raw, digits.len()).unwrap();
            prop_assert_eq!(code.as_str(), digits.as_str());
            prop_assert_eq!(VerificationCode::parse(code.as_str(), code.len()), Ok(code.clone()));
            let json = serde_json::to_string(&code).unwrap();
            prop_assert_eq!(serde_json::from_str::<VerificationCode>(&json).unwrap(), code.clone());
            let debug = format!("{code:?}");
            prop_assert!(!debug.contains(&digits));
        }
    }
}
