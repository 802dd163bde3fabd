//! Every word a user reads: the Fluent files of `locales/<lang>/*.ftl`, loaded into one
//! thread-safe bundle per language, plus what the checker needs to know about them (which
//! messages exist and which variables each one uses).
//!
//! Formatting never ignores Fluent's errors: a missing message or variable is an [`I18nError`],
//! which the checker makes impossible for the shipped scripts.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use fluent_syntax::ast;
use unic_langid::LanguageIdentifier;

/// The language every session starts in unless the user's client says otherwise.
pub const DEFAULT_LANG: &str = "ru";

/// A value for a message variable.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Arg {
    Num(i64),
    Text(String),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg::Text(s.to_owned())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg::Text(s)
    }
}

impl From<i64> for Arg {
    fn from(n: i64) -> Self {
        Arg::Num(n)
    }
}

/// Named values for a message's variables.
pub type Args = BTreeMap<String, Arg>;

#[derive(Debug, thiserror::Error)]
pub enum I18nError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: Fluent syntax errors: {details}")]
    Syntax { path: PathBuf, details: String },
    #[error("{path}: `{id}` is defined twice for language `{lang}`")]
    Duplicate {
        path: PathBuf,
        lang: String,
        id: String,
    },
    #[error("`{0}` is not a language identifier")]
    BadLanguage(String),
    #[error("no locale folders found in {0}")]
    NoLocales(PathBuf),
    #[error("the default language `{DEFAULT_LANG}` has no folder in {0}")]
    NoDefaultLocale(PathBuf),
    #[error("message `{id}` is missing in language `{lang}`")]
    MissingMessage { lang: String, id: String },
    #[error("message `{id}` in language `{lang}` failed to format: {details}")]
    Format {
        lang: String,
        id: String,
        details: String,
    },
}

/// One language's messages.
pub struct Locale {
    bundle: FluentBundle<FluentResource>,
    /// For each message id: the variables its value uses (through referenced messages too).
    variables: BTreeMap<String, BTreeSet<String>>,
}

impl fmt::Debug for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Locale")
            .field("messages", &self.variables.len())
            .finish()
    }
}

/// All languages, keyed by their folder name (`ru`, `en`).
#[derive(Debug)]
pub struct Locales {
    langs: BTreeMap<String, Locale>,
    /// The messages that show the deployment's chosen terms (`deployment-<term>`).
    chosen: Vec<String>,
}

/// Terms a deployment chooses among (`MESSENGER_APP`): for each `(term, choice)`, every locale
/// gets `-<term> = { -<term>-<choice> }`, and a message `deployment-<term>` showing it, so that
/// the checker proves each choice exists in each language.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TermChoices(pub Vec<(String, String)>);

impl TermChoices {
    /// The resource that makes the choices, added to every locale.
    fn resource(&self) -> String {
        self.0
            .iter()
            .map(|(term, choice)| {
                format!("-{term} = {{ -{term}-{choice} }}\ndeployment-{term} = {{ -{term} }}\n")
            })
            .collect()
    }

    /// The messages that show each chosen term.
    pub fn messages(&self) -> impl Iterator<Item = String> + '_ {
        self.0.iter().map(|(term, _)| format!("deployment-{term}"))
    }
}

impl Locales {
    /// Loads every `<dir>/<lang>/*.ftl`, with the deployment's term `choices`.
    pub fn load_with(dir: &Path, choices: &TermChoices) -> Result<Self, I18nError> {
        let mut sources = Self::read(dir)?;
        let resource = choices.resource();
        if !resource.is_empty() {
            for files in sources.values_mut() {
                files.push((PathBuf::from("<deployment>"), resource.clone()));
            }
        }
        let mut locales = Self::from_sources(sources)?;
        locales.chosen = choices.messages().collect();
        Ok(locales)
    }

    /// The messages that show the terms the deployment chose, for the checker.
    pub fn chosen_terms(&self) -> &[String] {
        &self.chosen
    }

    /// Loads every `<dir>/<lang>/*.ftl`.
    pub fn load(dir: &Path) -> Result<Self, I18nError> {
        Self::from_sources(Self::read(dir)?)
    }

    /// The FTL files of every language under `dir`.
    fn read(dir: &Path) -> Result<BTreeMap<String, Vec<(PathBuf, String)>>, I18nError> {
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|source| I18nError::Read {
                path: path.to_owned(),
                source,
            })
        };
        let mut sources: BTreeMap<String, Vec<(PathBuf, String)>> = BTreeMap::new();
        let mut lang_dirs: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|source| I18nError::Read {
                path: dir.to_owned(),
                source,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        lang_dirs.sort();
        for lang_dir in lang_dirs {
            let lang = lang_dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut files: Vec<PathBuf> = std::fs::read_dir(&lang_dir)
                .map_err(|source| I18nError::Read {
                    path: lang_dir.clone(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "ftl"))
                .collect();
            files.sort();
            let entry = sources.entry(lang).or_default();
            for file in files {
                let text = read(&file)?;
                entry.push((file, text));
            }
        }
        if sources.is_empty() {
            return Err(I18nError::NoLocales(dir.to_owned()));
        }
        if !sources.contains_key(DEFAULT_LANG) {
            return Err(I18nError::NoDefaultLocale(dir.to_owned()));
        }
        Ok(sources)
    }

    /// Builds the bundles from in-memory sources: language → [(file name, FTL text)].
    pub fn from_sources(
        sources: BTreeMap<String, Vec<(PathBuf, String)>>,
    ) -> Result<Self, I18nError> {
        let mut langs = BTreeMap::new();
        for (lang, files) in sources {
            let langid: LanguageIdentifier = lang
                .parse()
                .map_err(|_| I18nError::BadLanguage(lang.clone()))?;
            let mut bundle = FluentBundle::new_concurrent(vec![langid]);
            bundle.set_use_isolating(false);
            let mut asts = Vec::new();
            for (path, text) in files {
                let parsed = fluent_syntax::parser::parse(text.clone());
                let syntax_ast = match parsed {
                    Ok(res) => res,
                    Err((_, errors)) => {
                        let details = errors
                            .iter()
                            .map(|e| format!("{:?} at bytes {:?}", e.kind, e.pos))
                            .collect::<Vec<_>>()
                            .join("; ");
                        return Err(I18nError::Syntax { path, details });
                    }
                };
                let resource =
                    FluentResource::try_new(text).map_err(|(_, errors)| I18nError::Syntax {
                        path: path.clone(),
                        details: format!("{errors:?}"),
                    })?;
                if let Err(errors) = bundle.add_resource(resource) {
                    let id = errors
                        .iter()
                        .find_map(|e| match e {
                            fluent_bundle::FluentError::Overriding { id, .. } => Some(id.clone()),
                            _ => None,
                        })
                        .unwrap_or_default();
                    return Err(I18nError::Duplicate {
                        path,
                        lang: lang.clone(),
                        id,
                    });
                }
                asts.push(syntax_ast);
            }
            let variables = collect_variables(&asts);
            langs.insert(lang, Locale { bundle, variables });
        }
        Ok(Self {
            langs,
            chosen: Vec::new(),
        })
    }

    /// The languages, by folder name.
    pub fn languages(&self) -> impl Iterator<Item = &str> {
        self.langs.keys().map(String::as_str)
    }

    /// The best language for a client's language code (`ru-RU` → `ru`), or the default.
    pub fn pick_language(&self, code: Option<&str>) -> String {
        code.map(|c| c.split(['-', '_']).next().unwrap_or(c).to_ascii_lowercase())
            .filter(|c| self.langs.contains_key(c))
            .unwrap_or_else(|| DEFAULT_LANG.to_owned())
    }

    /// Whether `lang` has message `id`.
    pub fn has_message(&self, lang: &str, id: &str) -> bool {
        self.langs
            .get(lang)
            .is_some_and(|l| l.bundle.has_message(id))
    }

    /// The variables message `id` uses in `lang` (empty when it has none or does not exist).
    pub fn variables(&self, lang: &str, id: &str) -> BTreeSet<String> {
        self.langs
            .get(lang)
            .and_then(|l| l.variables.get(id))
            .cloned()
            .unwrap_or_default()
    }

    /// Every message id of `lang`.
    pub fn message_ids(&self, lang: &str) -> BTreeSet<String> {
        self.langs
            .get(lang)
            .map(|l| l.variables.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Formats message `id` in `lang` (the default language if `lang` is unknown).
    pub fn format(&self, lang: &str, id: &str, args: &Args) -> Result<String, I18nError> {
        let (lang, locale) =
            match self.langs.get_key_value(lang) {
                Some(found) => found,
                None => self.langs.get_key_value(DEFAULT_LANG).ok_or_else(|| {
                    I18nError::MissingMessage {
                        lang: lang.to_owned(),
                        id: id.to_owned(),
                    }
                })?,
            };
        let missing = || I18nError::MissingMessage {
            lang: lang.clone(),
            id: id.to_owned(),
        };
        let message = locale.bundle.get_message(id).ok_or_else(missing)?;
        let pattern = message.value().ok_or_else(missing)?;
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            match value {
                Arg::Num(n) => fluent_args.set(name.as_str(), FluentValue::from(*n)),
                Arg::Text(s) => fluent_args.set(name.as_str(), FluentValue::from(s.as_str())),
            }
        }
        let mut errors = Vec::new();
        let text = locale
            .bundle
            .format_pattern(pattern, Some(&fluent_args), &mut errors);
        if errors.is_empty() {
            Ok(text.into_owned())
        } else {
            Err(I18nError::Format {
                lang: lang.clone(),
                id: id.to_owned(),
                details: errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            })
        }
    }
}

/// For every message: the variables its value uses, following references to other messages.
fn collect_variables(resources: &[ast::Resource<String>]) -> BTreeMap<String, BTreeSet<String>> {
    let messages: BTreeMap<&str, &ast::Message<String>> = resources
        .iter()
        .flat_map(|r| r.body.iter())
        .filter_map(|e| match e {
            ast::Entry::Message(m) => Some((m.id.name.as_str(), m)),
            _ => None,
        })
        .collect();
    messages
        .keys()
        .map(|id| {
            let mut vars = BTreeSet::new();
            let mut seen = BTreeSet::new();
            message_variables(&messages, id, &mut vars, &mut seen);
            ((*id).to_owned(), vars)
        })
        .collect()
}

fn message_variables<'a>(
    messages: &BTreeMap<&'a str, &'a ast::Message<String>>,
    id: &'a str,
    vars: &mut BTreeSet<String>,
    seen: &mut BTreeSet<&'a str>,
) {
    if !seen.insert(id) {
        return;
    }
    let Some(message) = messages.get(id) else {
        return;
    };
    let mut referenced = Vec::new();
    if let Some(value) = &message.value {
        pattern_variables(value, vars, &mut referenced);
    }
    for other in referenced {
        if let Some((key, _)) = messages.get_key_value(other.as_str()) {
            message_variables(messages, key, vars, seen);
        }
    }
}

fn pattern_variables(
    pattern: &ast::Pattern<String>,
    vars: &mut BTreeSet<String>,
    messages: &mut Vec<String>,
) {
    for element in &pattern.elements {
        if let ast::PatternElement::Placeable { expression } = element {
            expression_variables(expression, vars, messages);
        }
    }
}

fn expression_variables(
    expression: &ast::Expression<String>,
    vars: &mut BTreeSet<String>,
    messages: &mut Vec<String>,
) {
    match expression {
        ast::Expression::Inline(inline) => inline_variables(inline, vars, messages),
        ast::Expression::Select { selector, variants } => {
            inline_variables(selector, vars, messages);
            for variant in variants {
                pattern_variables(&variant.value, vars, messages);
            }
        }
    }
}

fn inline_variables(
    inline: &ast::InlineExpression<String>,
    vars: &mut BTreeSet<String>,
    messages: &mut Vec<String>,
) {
    match inline {
        ast::InlineExpression::VariableReference { id } => {
            vars.insert(id.name.clone());
        }
        ast::InlineExpression::FunctionReference { arguments, .. } => {
            for arg in &arguments.positional {
                inline_variables(arg, vars, messages);
            }
            for arg in &arguments.named {
                inline_variables(&arg.value, vars, messages);
            }
        }
        ast::InlineExpression::MessageReference { id, .. } => messages.push(id.name.clone()),
        ast::InlineExpression::Placeable { expression } => {
            expression_variables(expression, vars, messages)
        }
        // Terms get their own arguments; literals have none.
        ast::InlineExpression::TermReference { .. }
        | ast::InlineExpression::StringLiteral { .. }
        | ast::InlineExpression::NumberLiteral { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locales(ru: &str) -> Locales {
        let mut sources = BTreeMap::new();
        sources.insert(
            "ru".to_owned(),
            vec![(PathBuf::from("ru/t.ftl"), ru.to_owned())],
        );
        Locales::from_sources(sources).expect("valid test locale")
    }

    #[test]
    fn russian_plural_forms_follow_the_count() {
        let l = locales(
            "left = { $n ->\n [one] Осталась { $n } попытка\n [few] Осталось { $n } попытки\n *[many] Осталось { $n } попыток\n}\n",
        );
        let say = |n: i64| {
            let mut args = Args::new();
            args.insert("n".into(), Arg::Num(n));
            l.format("ru", "left", &args).expect("formats")
        };
        assert_eq!(say(1), "Осталась 1 попытка");
        assert_eq!(say(3), "Осталось 3 попытки");
        assert_eq!(say(5), "Осталось 5 попыток");
        assert_eq!(say(21), "Осталась 21 попытка");
    }

    #[test]
    fn a_missing_variable_is_an_error_not_a_silent_placeholder() {
        let l = locales("hello = Здравствуйте, { $name }!\n");
        let err = l.format("ru", "hello", &Args::new()).unwrap_err();
        assert!(matches!(err, I18nError::Format { .. }), "{err}");
    }

    #[test]
    fn variables_are_collected_through_selects_and_message_references() {
        let l = locales(
            "-app = VK Мессенджер\nbase = { $class } { -app }\nfull = { base } { $n ->\n [one] { $a }\n *[other] { $b }\n}\n",
        );
        let vars: Vec<_> = l.variables("ru", "full").into_iter().collect();
        assert_eq!(vars, ["a", "b", "class", "n"]);
    }

    #[test]
    fn client_language_codes_fall_back_to_russian() {
        let l = locales("a = б\n");
        assert_eq!(l.pick_language(Some("ru-RU")), "ru");
        assert_eq!(l.pick_language(Some("de")), "ru");
        assert_eq!(l.pick_language(None), "ru");
    }
}
