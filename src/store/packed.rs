//! How every store keeps a session as bytes: its JSON as it is while it is short, and from
//! [`PACK_FROM`] bytes on that JSON deflated against a fixed dictionary of what sessions say,
//! behind the mark `z1`.
//!
//! A registering family's session is mostly the same words as everyone's: field names, the
//! scenario's step names, the school's name, the service's ids. Deflate alone halves a
//! 1,079-byte session; against a dictionary holding those words it takes 235 bytes, which keeps
//! a session within 512 bytes of Redis at every step of a registration. Short sessions (the menu,
//! the guides) stay plain JSON, readable with `redis-cli`; a packed one reads with
//! [`decode`].
//!
//! The dictionary ([`DICTIONARY_V1`], `dictionary-v1.txt`) can never change: a stored `z1`
//! session needs exactly those bytes. Words the scripts gain later are simply packed less well;
//! a better dictionary is a new mark (`z2`), decoded beside this one.

use std::cell::RefCell;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::StoreError;
use crate::engine::Session;

/// JSON this long or longer is packed (about where `MEMORY USAGE` passes 512 bytes).
const PACK_FROM: usize = 320;

/// What a packed session starts with (JSON starts with `{`).
const MARK_V1: &[u8] = b"z1";

/// The words a packed session is deflated against: the least common first, as deflate reaches
/// the end of a dictionary with the shortest codes. Never edit it (see the module docs).
const DICTIONARY_V1: &[u8] = include_bytes!("dictionary-v1.txt");

/// The deflate window, 4 KiB: the dictionary and a session both fit in it.
const WINDOW_BITS: u8 = 12;

/// A packed session never unpacks beyond this: anything longer is damaged data.
const UNPACKED_LIMIT: usize = 1 << 20;

thread_local! {
    /// One compressor per thread, reset for every session: making one allocates its tables.
    static COMPRESSOR: RefCell<Compress> =
        RefCell::new(Compress::new_with_window_bits(Compression::default(), false, WINDOW_BITS));
    static DECOMPRESSOR: RefCell<Decompress> =
        RefCell::new(Decompress::new_with_window_bits(false, WINDOW_BITS));
}

/// Why stored bytes are not a session. It names a category only: the bytes may carry a
/// child's name, phone or email, and so may a JSON error's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Undecodable {
    #[error("packed data that does not inflate")]
    Packed,
    #[error("JSON that does not read as a session ({0:?})")]
    Json(serde_json::error::Category),
}

/// The session's bytes, as a store keeps them.
pub fn encode(session: &Session) -> Result<Vec<u8>, StoreError> {
    let json = serde_json::to_vec(session)
        .map_err(|e| StoreError::Unavailable(format!("cannot encode the session: {e}")))?;
    if json.len() < PACK_FROM {
        return Ok(json);
    }
    Ok(pack(&json).unwrap_or(json))
}

/// The session stored as `bytes`, packed or not.
pub fn decode(bytes: &[u8]) -> Result<Session, Undecodable> {
    let read =
        |json: &[u8]| serde_json::from_slice(json).map_err(|e| Undecodable::Json(e.classify()));
    match bytes.strip_prefix(MARK_V1) {
        Some(packed) => read(&unpack(packed).ok_or(Undecodable::Packed)?),
        None => read(bytes),
    }
}

/// `json` deflated behind the mark, or `None` when that is not shorter.
fn pack(json: &[u8]) -> Option<Vec<u8>> {
    COMPRESSOR.with_borrow_mut(|compressor| {
        compressor.reset();
        compressor.set_dictionary(DICTIONARY_V1).ok()?;
        // Room for the whole input: a stream that ends within it is shorter than the JSON.
        let mut packed = Vec::with_capacity(MARK_V1.len() + json.len());
        packed.extend_from_slice(MARK_V1);
        let status = compressor
            .compress_vec(json, &mut packed, FlushCompress::Finish)
            .ok()?;
        (status == Status::StreamEnd).then_some(packed)
    })
}

/// The JSON inflated from `packed` (without its mark).
fn unpack(packed: &[u8]) -> Option<Vec<u8>> {
    DECOMPRESSOR.with_borrow_mut(|decompressor| {
        decompressor.reset(false);
        decompressor.set_dictionary(DICTIONARY_V1).ok()?;
        let mut json = Vec::with_capacity(packed.len() * 4 + 256);
        loop {
            let read = usize::try_from(decompressor.total_in()).ok()?;
            let status = decompressor
                .decompress_vec(packed.get(read..)?, &mut json, FlushDecompress::Finish)
                .ok()?;
            match status {
                Status::StreamEnd => return Some(json),
                _ if json.len() >= UNPACKED_LIMIT => return None,
                // Out of room, or input that ends before the stream does (no progress).
                _ if json.len() < json.capacity() => return None,
                _ => json.reserve(json.capacity()),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::StepRef;
    use chrono::{TimeZone, Utc};

    fn session_with_history(steps: usize) -> Session {
        let now = Utc.with_ymd_and_hms(2026, 9, 1, 8, 0, 0).unwrap();
        let mut session = Session::new("fb258aa85f284703", "ru", now);
        session.at = StepRef::new("variant1", "code");
        session.history = (0..steps)
            .map(|i| StepRef::new("variant1", &format!("step_{i}")))
            .collect();
        session
    }

    #[test]
    fn a_short_session_stays_json_and_a_long_one_is_packed_smaller() {
        let short = session_with_history(0);
        let bytes = encode(&short).unwrap();
        assert_eq!(bytes.first(), Some(&b'{'));
        assert_eq!(decode(&bytes).unwrap(), short);

        let long = session_with_history(20);
        let json = serde_json::to_vec(&long).unwrap();
        let bytes = encode(&long).unwrap();
        assert!(bytes.starts_with(MARK_V1));
        assert!(
            bytes.len() * 3 < json.len(),
            "{} of {}",
            bytes.len(),
            json.len()
        );
        assert_eq!(decode(&bytes).unwrap(), long);
    }

    #[test]
    fn damaged_packed_data_is_undecodable_not_a_panic() {
        let bytes = encode(&session_with_history(20)).unwrap();
        assert_eq!(decode(&bytes[..bytes.len() / 2]), Err(Undecodable::Packed));
        assert_eq!(decode(b"z1"), Err(Undecodable::Packed));
        assert_eq!(decode(b"z1\xff\xff\xff\xff"), Err(Undecodable::Packed));
        assert!(matches!(decode(b"{\"at\":"), Err(Undecodable::Json(_))));
    }

    /// Held out from the dictionary: the end of a registration with values it never saw (UUIDs
    /// for every id, another school, other names) still packs to well under half.
    #[test]
    fn values_the_dictionary_never_saw_still_pack_to_under_half() {
        let json = r#"{"scripts_version":"fb258aa85f284703","lang":"ru","at":"variant1/parent_invite","history":["variant1/welcome","variant1/contact","variant1/confirm_contact","variant1/code","variant1/name","variant1/confirm_application","variant1/submitted","variant1/approved"],"facts":{"invite_token":"Kq3vX9_pLm2ZtR8wYb4N","invite":{"kind":"class","class_id":"0b6f7c9e-3d1a-4e8b-9f2c-5a7d8e1b4c60","class":"7Б","school":"МАОУ «Гимназия № 5 имени А. С. Пушкина» г. Оренбурга","teacher_name":"Ханова Гульнара Рашидовна"},"contact":{"channel":"email","address":"timur.a2013@yandex.ru"},"verification":{"verification_id":"5e2d9a41-8c7b-4f03-b6e1-2a9c0d7f3b85","code_length":4,"expires_at":1788761400000,"resend_after":1788760860000},"verified":true,"child_name":{"last_name":"Абдрахманов","first_name":"Тимур","middle_name":"Ильдарович"},"application":{"application_id":"c3a8e6d2-71f4-4b95-8d0a-e5b2f9c61a37","status":"approved","class":"7Б","school":"МАОУ «Гимназия № 5 имени А. С. Пушкина» г. Оренбурга","teacher_id":"9d4b1e7a-2c6f-48e3-a5b9-0f8d3c7e2a14"},"parent_invite":{"token":"Zx81-Qw0eRt5yU7iOp3a","expires_at":1789365600000}},"offer":{"seq":9,"own":true},"epoch":864433272081137098,"updated_at":1788760800000,"active_at":1788760800000}"#;
        let session: Session = serde_json::from_str(json).unwrap();
        let plain = serde_json::to_vec(&session).unwrap().len();
        let packed = encode(&session).unwrap();
        println!(
            "held out: {plain} bytes of JSON packed into {}",
            packed.len()
        );
        assert!(packed.starts_with(MARK_V1));
        assert!(packed.len() * 2 < plain, "{} of {plain}", packed.len());
        assert_eq!(decode(&packed), Ok(session));
    }

    /// A `z1` session written once must read for as long as it may be stored: these bytes
    /// were packed by the first version, and must never stop reading.
    #[test]
    fn a_session_packed_by_the_first_version_still_reads() {
        const PACKED: &str = "7a316d964b0e80200c05afc4e323e5340617dcc2bb1ba231e2743bdd4cda97075e\
            178d2316ebddca88966b485e37fdafe15d7a3e777b58763f8940224802c920056403a92006d268e8488b\
            88daa2b7282e9a8beaa2bb28aff68d2c12325b75f9713d1909cc48cced2e6204e59d9c17";
        let bytes: Vec<u8> = (0..PACKED.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&PACKED[i..i + 2], 16).unwrap())
            .collect();
        assert!(bytes.starts_with(MARK_V1));
        assert_eq!(decode(&bytes), Ok(session_with_history(20)));
    }
}
