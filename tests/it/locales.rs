//! Every locale is complete: the same messages, terms and attributes in every language, each
//! message using the same variables everywhere; and a conversation follows the client's
//! language and `/lang`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use fluent_syntax::ast;
use sferum_bot::i18n::Locales;

use super::helpers::{crate_dir, rendered, TestBot, Transcript};

/// Every key of one locale (`message`, `-term`, `message.attribute`, `-term.attribute`) and the
/// file that defines it, as `locales/<lang>/<file>.ftl`.
type Keys = BTreeMap<String, String>;

/// The keys of every locale under `dir`, by language.
fn keys_by_file(dir: &Path) -> BTreeMap<String, Keys> {
    let mut langs = BTreeMap::new();
    for entry in std::fs::read_dir(dir).expect("a readable locales folder") {
        let lang_dir = entry.expect("an entry").path();
        if !lang_dir.is_dir() {
            continue;
        }
        let lang = lang_dir
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        let mut files: Vec<(PathBuf, String)> = std::fs::read_dir(&lang_dir)
            .expect("a readable locale folder")
            .map(|e| e.expect("an entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "ftl"))
            .map(|p| {
                let text = std::fs::read_to_string(&p).expect("a readable file");
                let name = p
                    .file_name()
                    .expect("a name")
                    .to_string_lossy()
                    .into_owned();
                (PathBuf::from(format!("locales/{lang}/{name}")), text)
            })
            .collect();
        files.sort();
        langs.insert(lang, keys_of(&files));
    }
    langs
}

fn keys_of(files: &[(PathBuf, String)]) -> Keys {
    let mut keys = Keys::new();
    for (path, text) in files {
        let resource = fluent_syntax::parser::parse(text.clone()).unwrap_or_else(|(_, errors)| {
            panic!("{}: Fluent syntax errors: {errors:?}", path.display())
        });
        let file = path.display().to_string();
        for entry in resource.body {
            let (id, attributes) = match entry {
                ast::Entry::Message(m) => (m.id.name, m.attributes),
                ast::Entry::Term(t) => (format!("-{}", t.id.name), t.attributes),
                _ => continue,
            };
            for attribute in attributes {
                keys.insert(format!("{id}.{}", attribute.id.name), file.clone());
            }
            keys.insert(id, file.clone());
        }
    }
    keys
}

/// Every key one locale has and another lacks, naming both and the file that defines it.
fn missing_keys(langs: &BTreeMap<String, Keys>) -> Vec<String> {
    let mut problems = Vec::new();
    for (lang, keys) in langs {
        for (other, other_keys) in langs {
            if lang == other {
                continue;
            }
            for (key, file) in keys {
                if !other_keys.contains_key(key) {
                    problems.push(format!(
                        "`{key}` ({file}) is missing in locale `{other}`{}",
                        counterpart(file, lang, other)
                    ));
                }
            }
        }
    }
    problems
}

/// Where the missing key belongs: the same file name in the other locale.
fn counterpart(file: &str, lang: &str, other: &str) -> String {
    let prefix = format!("locales/{lang}/");
    file.strip_prefix(&prefix)
        .map(|name| format!(" (expected in locales/{other}/{name})"))
        .unwrap_or_default()
}

/// Every variable a message uses in one locale but not in another.
fn variable_mismatches(locales: &Locales) -> Vec<String> {
    let langs: Vec<&str> = locales.languages().collect();
    let mut problems = Vec::new();
    for &lang in &langs {
        for id in locales.message_ids(lang) {
            let vars = locales.variables(lang, &id);
            for &other in &langs {
                if other == lang || !locales.has_message(other, &id) {
                    continue; // a missing message is the other test's finding
                }
                let other_vars = locales.variables(other, &id);
                for var in vars.difference(&other_vars) {
                    problems.push(format!(
                        "message `{id}` uses `${var}` in locale `{lang}` but not in locale `{other}`"
                    ));
                }
            }
        }
    }
    problems
}

fn shipped_locales() -> Locales {
    Locales::load(&crate_dir().join("locales"))
        .unwrap_or_else(|e| panic!("the shipped locales load: {e}"))
}

/// Locales from in-memory FTL text: language → [(file name, text)].
fn locales_from(sources: &[(&str, &str, &str)]) -> (Locales, BTreeMap<String, Keys>) {
    let mut by_lang: BTreeMap<String, Vec<(PathBuf, String)>> = BTreeMap::new();
    for (lang, file, text) in sources {
        by_lang.entry((*lang).to_owned()).or_default().push((
            PathBuf::from(format!("locales/{lang}/{file}")),
            (*text).to_owned(),
        ));
    }
    let keys = by_lang
        .iter()
        .map(|(lang, files)| (lang.clone(), keys_of(files)))
        .collect();
    let locales = Locales::from_sources(by_lang).expect("valid test locales");
    (locales, keys)
}

#[test]
fn there_is_more_than_one_locale() {
    let langs: Vec<String> = shipped_locales().languages().map(str::to_owned).collect();
    assert!(
        langs.iter().any(|l| l == "ru") && langs.iter().any(|l| l == "en"),
        "expected the locales ru and en, found {langs:?}"
    );
}

#[test]
fn every_locale_has_every_message_term_and_attribute() {
    let dir = crate_dir().join("locales");
    let langs = keys_by_file(&dir);
    // The keys read here are the ones the bot loads.
    let locales = shipped_locales();
    for (lang, keys) in &langs {
        let messages: BTreeSet<String> = keys
            .keys()
            .filter(|k| !k.starts_with('-') && !k.contains('.'))
            .cloned()
            .collect();
        assert_eq!(
            messages,
            locales.message_ids(lang),
            "the messages of `{lang}`"
        );
    }
    let problems = missing_keys(&langs);
    assert!(
        problems.is_empty(),
        "{} keys are missing from a locale:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn every_message_uses_the_same_variables_in_every_locale() {
    let problems = variable_mismatches(&shipped_locales());
    assert!(
        problems.is_empty(),
        "{} variables differ between locales:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn every_locale_names_every_language() {
    let locales = shipped_locales();
    let langs: Vec<&str> = locales.languages().collect();
    for &lang in &langs {
        for &named in &langs {
            assert!(
                locales.has_message(lang, &format!("lang-{named}")),
                "locale `{lang}` has no `lang-{named}` for the /lang button"
            );
        }
    }
}

#[test]
fn a_missing_key_is_reported_with_its_file_and_locale() {
    let (_, keys) = locales_from(&[
        (
            "ru",
            "main.ftl",
            "-app = Сферум\nhello = Привет\n    .title = Заголовок\nbye = Пока\n",
        ),
        ("en", "main.ftl", "-app = Sferum\nhello = Hello\n"),
    ]);
    let problems = missing_keys(&keys);
    assert_eq!(
        problems,
        [
            "`bye` (locales/ru/main.ftl) is missing in locale `en` (expected in locales/en/main.ftl)",
            "`hello.title` (locales/ru/main.ftl) is missing in locale `en` (expected in locales/en/main.ftl)",
        ]
    );
    let (_, keys) = locales_from(&[
        ("ru", "menu.ftl", "a = б\n"),
        ("en", "menu.ftl", "a = b\n-extra = x\n"),
    ]);
    assert_eq!(
        missing_keys(&keys),
        ["`-extra` (locales/en/menu.ftl) is missing in locale `ru` (expected in locales/ru/menu.ftl)"]
    );
}

#[test]
fn a_variable_used_in_one_locale_only_is_reported() {
    let (locales, _) = locales_from(&[
        (
            "ru",
            "t.ftl",
            "ask = Код на { $address }, { $n ->\n [one] цифра\n *[many] цифр\n}\n",
        ),
        (
            "en",
            "t.ftl",
            "ask = A code to { $address } ({ $length } digits)\n",
        ),
    ]);
    assert_eq!(
        variable_mismatches(&locales),
        [
            "message `ask` uses `$length` in locale `en` but not in locale `ru`",
            "message `ask` uses `$n` in locale `ru` but not in locale `en`",
        ]
    );
}

#[tokio::test]
async fn an_english_client_gets_the_english_menu() {
    let bot = TestBot::new();
    let mut chat = bot.chat(1);
    chat.lang = Some("en".into());
    chat.send("/start").await;
    assert_said_in(&chat, "menu-start", "en");
    assert!(
        chat.last_buttons().iter().any(|b| b == "I'm a parent"),
        "no English buttons:\n{}",
        chat.text()
    );
    chat.press("I'm a parent").await;
    assert_eq!(chat.at, "menu/parent");
    assert_said_in(&chat, "menu-parent", "en");
}

#[tokio::test]
async fn a_client_language_with_a_region_picks_english_and_an_unknown_one_russian() {
    let bot = TestBot::new();
    let mut english = bot.chat(1);
    english.lang = Some("en-GB".into());
    english.send("/start").await;
    assert_said_in(&english, "menu-start", "en");
    let mut other = bot.chat(2);
    other.lang = Some("de".into());
    other.send("/start").await;
    assert_said_in(&other, "menu-start", "ru");
}

#[tokio::test]
async fn lang_offers_both_languages_and_switches() {
    let bot = TestBot::new();
    let mut chat = bot.chat(1);
    chat.lang = Some("en".into());
    chat.send("/start").await;

    chat.send("/lang").await;
    let buttons = chat.last_buttons();
    for name in ["English", "Русский"] {
        assert!(
            buttons.iter().any(|b| b == name),
            "/lang does not offer «{name}»: {buttons:?}\n{}",
            chat.text()
        );
    }

    chat.send("/lang ru").await;
    assert_said_in(&chat, "menu-start", "ru"); // /lang ru switched to Russian
    assert!(
        chat.last_buttons().iter().any(|b| b == "Я родитель"),
        "{}",
        chat.text()
    );

    // The choice outlives the client's language, which still says `en`.
    chat.send("/menu").await;
    assert_said_in(&chat, "menu-start", "ru");

    // And the button switches back.
    chat.send("/lang").await;
    chat.press("English").await;
    assert_said_in(&chat, "menu-start", "en"); // the «English» button switched to English
}

/// One of the latest messages is `id`, in the language `lang`: its text as `lang` renders it.
#[track_caller]
fn assert_said_in(chat: &Transcript<'_>, id: &str, lang: &str) {
    chat.assert_said(id);
    let text = rendered(lang, id, &[]);
    assert!(
        chat.last_text().contains(&text),
        "«{id}» is not said in `{lang}` ({text:?}); the conversation so far:\n{}",
        chat.text()
    );
}

#[test]
fn a_message_that_does_not_render_is_an_error_never_an_empty_text() {
    let engine = super::helpers::engine();
    let missing = sferum_bot::engine::Say::new("no-such-message", Default::default());
    assert!(sferum_bot::runtime::render(engine.locales(), "ru", &missing).is_err());
    let known = sferum_bot::engine::Say::plain(sferum_bot::script::Msg::HelpGeneral);
    let reply = sferum_bot::runtime::render(engine.locales(), "ru", &known).expect("renders");
    assert!(!reply.text.trim().is_empty());
    assert_eq!(reply.message, "help-general");
}
